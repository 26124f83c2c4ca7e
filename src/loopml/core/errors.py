"""The one error tree of loopml.

Every error loopml raises on purpose derives from :class:`LoopmlError`. Leaves also
inherit the built-in exception they resemble, so ``except KeyError`` keeps working for
code that does not know loopml::

    LoopmlError(Exception)
     ├── ValidationError(LoopmlError, ValueError)        bad input; names the field
     │    ├── FilterSyntaxError                          a search filter that does not parse
     │    ├── UnsafePathError                            a path that would leave its root
     │    ├── ProjectFileError                           an invalid loopml.yaml; names the line
     │    ├── DataValidationError                        data that fails its schema; has report
     │    ├── SignatureError (flavors/errors.py)         input that does not fit a model
     │    └── UntrustedModelError (flavors/errors.py)    a code-running format without trust
     ├── NotFoundError(LoopmlError, KeyError)            unknown experiment, run, artifact ...
     ├── AlreadyExistsError(LoopmlError, ValueError)     a name clash
     ├── ConflictError(LoopmlError, RuntimeError)        state forbids it (e.g. a finished run)
     ├── IntegrityError(LoopmlError, RuntimeError)       stored bytes do not match their checksum
     │    └── FormatMismatchError (flavors/errors.py)    a model file that is not its format
     ├── StoreError(LoopmlError, OSError)                a store cannot be reached or used
     │    ├── StoreUnavailableError                      unreachable URL, refused connection
     │    └── SchemaVersionError                         store schema too old or too new
     ├── FlushError(LoopmlError, RuntimeError)           buffered run data could not be written
     ├── AuthenticationError(LoopmlError, PermissionError)  no valid token: malformed, unknown,
     │    │                                              revoked, expired, or a disabled user
     │    └── RateLimitedError                           too many failed logins; retry_after_s
     └── PermissionDeniedError(LoopmlError, PermissionError)  a role too low for the operation

Only ``server/`` maps these to HTTP status codes and only ``cli/`` maps them to exit
codes; the errors themselves carry no wire format.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "AuthenticationError",
    "ConflictError",
    "DataValidationError",
    "FilterSyntaxError",
    "FlushError",
    "IntegrityError",
    "LoopmlError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectFileError",
    "RateLimitedError",
    "SchemaVersionError",
    "StoreError",
    "StoreUnavailableError",
    "UnsafePathError",
    "ValidationError",
]


class LoopmlError(Exception):
    """Root of every error loopml raises on purpose.

    Args:
        message: One line that names the thing and, where there is one, the fix.
        field: The input field at fault, when the error is about one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(LoopmlError, ValueError):
    """Input that loopml refuses; ``field`` names what to fix."""


class FilterSyntaxError(ValidationError):
    """A search filter that does not parse.

    Attributes:
        position: 0-based character offset of the problem in the filter text.
    """

    def __init__(self, message: str, *, position: int, text: str) -> None:
        super().__init__(message, field="filter")
        self.position = position
        self.text = text


class UnsafePathError(ValidationError):
    """A path that is not allowed, or would resolve outside its root."""


class ProjectFileError(ValidationError):
    """An invalid ``loopml.yaml``; ``line`` is 1-based where known."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.line = line


class DataValidationError(ValidationError):
    """Data that fails its schema; ``report`` is the full validation report."""

    def __init__(self, message: str, *, report: object) -> None:
        super().__init__(message, field="data")
        self.report = report


class NotFoundError(LoopmlError, KeyError):
    """Unknown experiment, run, artifact or other record."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class AlreadyExistsError(LoopmlError, ValueError):
    """A record with that name or key already exists."""


class ConflictError(LoopmlError, RuntimeError):
    """The current state of a record forbids the operation."""


class IntegrityError(LoopmlError, RuntimeError):
    """Stored bytes do not match the checksum recorded for them."""


class StoreError(LoopmlError, OSError):
    """A metadata or artifact store cannot be reached or used."""


class StoreUnavailableError(StoreError):
    """The store URL is unreachable or refused the connection."""


class SchemaVersionError(StoreError):
    """The store's schema is older or newer than this loopml understands."""


class FlushError(LoopmlError, RuntimeError):
    """Buffered metrics, params or tags of a run could not be written."""


class AuthenticationError(LoopmlError, PermissionError):
    """The caller presented no valid credentials.

    The message never says which check failed for an unknown token, so a caller cannot
    probe for token ids.
    """


class RateLimitedError(AuthenticationError):
    """Too many failed logins from one address; try again after ``retry_after_s`` seconds."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermissionDeniedError(LoopmlError, PermissionError):
    """The caller is known but its role is too low for the operation."""
