"""The API token format, secret hashing and expiry durations.

A token reads ``lml_<id>_<secret>``: ``lml_``, the token's 32-hex record id, ``_``, and 43
URL-safe characters from :func:`secrets.token_urlsafe` (256 random bits). Stores keep only
the SHA-256 hex digest of the secret; verification looks the record up by id and compares
digests in constant time. The id in front lets a verifier find the record with one indexed
read, and lets a leaked-token scanner recognise the prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from loopml.core.errors import ValidationError

__all__ = [
    "TOKEN_PATTERN",
    "TOKEN_PREFIX",
    "format_token",
    "hash_secret",
    "new_secret",
    "parse_expiry",
    "secret_matches",
    "split_token",
]

TOKEN_PREFIX = "lml_"  # noqa: S105 - a public prefix, not a secret
TOKEN_PATTERN = re.compile(r"lml_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
_SECRET_BYTES = 32  # token_urlsafe(32) is 43 characters

_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdwy])")
_UNIT = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "y": timedelta(days=365),
}
_MAX_EXPIRY = timedelta(days=100 * 365)


def new_secret() -> str:
    """A fresh random secret: 43 URL-safe characters."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest a store keeps instead of the secret.

    A plain fast hash is enough: the secret carries 256 random bits, so there is nothing
    for a slow password hash to protect against.
    """
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(hash_secret(secret).encode("ascii"), stored_hash.encode("ascii"))


def format_token(token_id: str, secret: str) -> str:
    """The token string a client sends: ``lml_<id>_<secret>``.

    >>> format_token("0" * 32, "s" * 43)[:40]
    'lml_00000000000000000000000000000000_sss'
    """
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def split_token(raw: str) -> tuple[str, str] | None:
    """The (id, secret) of a well-formed token string, or None.

    >>> split_token("lml_" + "a" * 32 + "_" + "b" * 43) == ("a" * 32, "b" * 43)
    True
    >>> split_token("Bearer xyz") is None
    True
    """
    match = TOKEN_PATTERN.fullmatch(raw.strip())
    if match is None:
        return None
    return match.group(1), match.group(2)


def parse_expiry(text: str | None) -> timedelta | None:
    """How long a new token lives: ``30m``, ``12h``, ``90d``, ``2w``, ``1y``; None for never.

    ``never`` (or None) means the token does not expire.

    >>> parse_expiry("90d")
    datetime.timedelta(days=90)
    >>> parse_expiry("never") is None
    True

    Raises:
        ValidationError: (field ``expires``) the text is not such a duration, or longer
            than 100 years.
    """
    if text is None:
        return None
    cleaned = text.strip().lower()
    if cleaned == "never":
        return None
    match = _DURATION.fullmatch(cleaned)
    if match is not None:
        duration = int(match.group(1)) * _UNIT[match.group(2)]
        if duration <= _MAX_EXPIRY:
            return duration
    raise ValidationError(
        f"expires {text!r} is not a duration: use e.g. 30m, 12h, 90d, 2w, 1y (at most 100y) "
        "or never",
        field="expires",
    )
