from __future__ import annotations

import io
from pathlib import Path

import pytest

from loopml.artifacts.hashing import (
    StreamHasher,
    check_digest,
    check_expected_digest,
    hash_bytes,
    hash_file,
    hash_stream,
)
from loopml.core.errors import IntegrityError, ValidationError


def test_digest_is_blake3_of_the_bytes() -> None:
    # Reference value from the BLAKE3 specification's test vectors (empty input).
    assert hash_bytes(b"") == (
        "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    )


def test_chunked_file_and_stream_hashes_agree(tmp_path: Path) -> None:
    data = bytes(range(256)) * 50_000
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    hasher = StreamHasher()
    for start in range(0, len(data), 1_000_003):
        hasher.update(data[start : start + 1_000_003])
    expected = hash_bytes(data)
    assert (hasher.digest(), hasher.size) == (expected, len(data))
    assert hash_file(path) == (expected, len(data))
    assert hash_stream(io.BytesIO(data)) == (expected, len(data))


@pytest.mark.parametrize("digest", ["", "blake3:", "blake3:" + "A" * 64, "sha256:" + "a" * 64])
def test_malformed_digest_is_refused(digest: str) -> None:
    with pytest.raises(ValidationError):
        check_digest(digest)


def test_expected_digest_mismatch_is_an_integrity_error() -> None:
    check_expected_digest("p", hash_bytes(b"a"), None)
    check_expected_digest("p", hash_bytes(b"a"), hash_bytes(b"a"))
    with pytest.raises(IntegrityError, match="nothing was stored"):
        check_expected_digest("p", hash_bytes(b"a"), hash_bytes(b"b"))
