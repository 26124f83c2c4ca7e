"""The token string format and expiry durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loopml.auth import format_token, hash_secret, parse_expiry, split_token
from loopml.auth.tokens import TOKEN_PATTERN, new_secret, secret_matches
from loopml.core.errors import ValidationError


def test_a_new_secret_is_43_urlsafe_characters_and_fresh_each_time() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert TOKEN_PATTERN.fullmatch(format_token("a" * 32, secret))


def test_split_token_inverts_format_token() -> None:
    secret = new_secret()
    assert split_token(format_token("0123456789abcdef" * 2, secret)) == (
        "0123456789abcdef" * 2,
        secret,
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "lml_",
        "Bearer lml_" + "a" * 32 + "_" + "b" * 43,
        "lml_" + "A" * 32 + "_" + "b" * 43,
        "lml_" + "a" * 31 + "_" + "b" * 43,
        "lml_" + "a" * 32 + "_" + "b" * 42,
        "lml_" + "a" * 32 + "_" + "b" * 44,
        "lml_" + "a" * 32 + "_" + "b" * 42 + "=",
        "xyz_" + "a" * 32 + "_" + "b" * 43,
    ],
)
def test_malformed_tokens_do_not_split(raw: str) -> None:
    assert split_token(raw) is None


def test_only_the_sha256_of_the_secret_matches() -> None:
    stored = hash_secret("s3cret")
    assert len(stored) == 64
    assert stored != "s3cret"
    assert secret_matches("s3cret", stored)
    assert not secret_matches("s3creT", stored)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("90d", timedelta(days=90)),
        ("2w", timedelta(weeks=2)),
        ("1y", timedelta(days=365)),
        (" 7D ", timedelta(days=7)),
        ("never", None),
        (None, None),
    ],
)
def test_parse_expiry_reads_durations(text: str | None, expected: timedelta | None) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "-1d", "90", "d", "1.5h", "3x", "101y", "forever"])
def test_parse_expiry_refuses_other_text_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_expiry(text)
    assert caught.value.field == "expires"
    assert str(caught.value).startswith("expires ")
