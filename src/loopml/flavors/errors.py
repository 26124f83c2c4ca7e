"""The errors of model packaging, as leaves of loopml's one error tree::

    ValidationError
     ├── SignatureError          input that does not match a model's signature
     └── UntrustedModelError     a format that runs code on load, without trust=True
    IntegrityError
     └── FormatMismatchError     a file whose bytes are not the format its manifest declares

A tampered file whose digest no longer matches raises :class:`loopml.IntegrityError` itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from loopml.core.errors import IntegrityError, ValidationError

__all__ = ["FormatMismatchError", "SignatureError", "UntrustedModelError"]


class SignatureError(ValidationError):
    """Input that does not match the model's signature.

    Attributes:
        missing: Input columns the model needs that the data lacks.
        problems: One line per column whose type cannot be converted safely.
    """

    def __init__(
        self, message: str, *, missing: Sequence[str] = (), problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message, field="data")
        self.missing = tuple(missing)
        self.problems = tuple(problems)


class UntrustedModelError(ValidationError):
    """A model whose format can run code when loaded, refused without ``trust=True``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="trust")


class FormatMismatchError(IntegrityError):
    """A model file whose content is not the format its manifest declares; never parsed."""
