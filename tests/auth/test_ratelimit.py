"""Failed-login throttling and the client address behind trusted proxies."""

from __future__ import annotations

import pytest

from loopml.auth import LoginRateLimiter, client_address
from loopml.core.errors import AuthenticationError, RateLimitedError, ValidationError


class Ticker:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def limiter(ticker: Ticker) -> LoginRateLimiter:
    return LoginRateLimiter(max_failures=10, window_s=60, block_s=60, clock=ticker)


def _fail(limiter: LoginRateLimiter, address: str, n: int) -> None:
    for _ in range(n):
        limiter.record_failure(address)


def test_ten_failures_in_a_minute_block_the_address_for_a_minute(
    limiter: LoginRateLimiter, ticker: Ticker
) -> None:
    _fail(limiter, "1.2.3.4", 9)
    limiter.check("1.2.3.4")
    limiter.record_failure("1.2.3.4")
    with pytest.raises(RateLimitedError) as caught:
        limiter.check("1.2.3.4")
    assert caught.value.retry_after_s == 60
    assert isinstance(caught.value, AuthenticationError)
    ticker.now += 59.5
    with pytest.raises(RateLimitedError) as caught:
        limiter.check("1.2.3.4")
    assert caught.value.retry_after_s == pytest.approx(0.5)
    assert "try again in 1 s" in str(caught.value)
    ticker.now += 0.5
    limiter.check("1.2.3.4")


def test_other_addresses_are_not_blocked(limiter: LoginRateLimiter) -> None:
    _fail(limiter, "1.2.3.4", 10)
    limiter.check("1.2.3.5")


def test_failures_older_than_the_window_do_not_count(
    limiter: LoginRateLimiter, ticker: Ticker
) -> None:
    _fail(limiter, "1.2.3.4", 9)
    ticker.now += 60
    _fail(limiter, "1.2.3.4", 9)
    limiter.check("1.2.3.4")
    limiter.record_failure("1.2.3.4")
    with pytest.raises(RateLimitedError):
        limiter.check("1.2.3.4")


def test_failures_while_blocked_do_not_extend_the_block(
    limiter: LoginRateLimiter, ticker: Ticker
) -> None:
    _fail(limiter, "1.2.3.4", 10)
    ticker.now += 30
    _fail(limiter, "1.2.3.4", 5)
    ticker.now += 30
    limiter.check("1.2.3.4")


def test_after_a_block_the_count_starts_again(limiter: LoginRateLimiter, ticker: Ticker) -> None:
    _fail(limiter, "1.2.3.4", 10)
    ticker.now += 60
    _fail(limiter, "1.2.3.4", 9)
    limiter.check("1.2.3.4")


def test_reset_forgets_the_failures(limiter: LoginRateLimiter) -> None:
    _fail(limiter, "1.2.3.4", 9)
    limiter.reset("1.2.3.4")
    limiter.record_failure("1.2.3.4")
    limiter.check("1.2.3.4")


def test_memory_stays_bounded_and_blocks_survive_a_flood(ticker: Ticker) -> None:
    limiter = LoginRateLimiter(max_failures=2, clock=ticker, max_addresses=100)
    _fail(limiter, "6.6.6.6", 2)
    for index in range(1000):
        limiter.record_failure(f"10.0.{index // 256}.{index % 256}")
    assert len(limiter._failures) + len(limiter._blocked_until) <= 100
    with pytest.raises(RateLimitedError):
        limiter.check("6.6.6.6")


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValidationError):
        LoginRateLimiter(max_failures=0)


TRUSTED = {"10.0.0.1", "10.1.0.0/16"}


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        # No header, or a peer we do not trust: the peer, whatever the header claims.
        ("1.2.3.4", None, "1.2.3.4"),
        ("1.2.3.4", "6.6.6.6", "1.2.3.4"),
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        # From a trusted proxy: the right-most address that is not a trusted proxy.
        ("10.0.0.1", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        ("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.2.3", "1.2.3.4"),
        ("10.1.9.9", "6.6.6.6,1.2.3.4 ,10.0.0.1", "1.2.3.4"),
        # Every hop a trusted proxy: the left-most.
        ("10.0.0.1", "10.1.0.5, 10.0.0.1", "10.1.0.5"),
        # Ports and IPv6 forms are normalised.
        ("10.0.0.1", "1.2.3.4:5678", "1.2.3.4"),
        ("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.1", "2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:10.0.0.1", "1.2.3.4", "1.2.3.4"),
        # A malformed client entry: fall back to the peer.
        ("10.0.0.1", "6.6.6.6, unknown", "10.0.0.1"),
        # A peer that is not an IP address (a test client) passes through.
        ("testclient", "1.2.3.4", "testclient"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(
    peer: str, header: str | None, expected: str
) -> None:
    assert client_address(peer, header, TRUSTED) == expected


def test_no_trusted_proxies_means_the_header_is_ignored() -> None:
    assert client_address("10.0.0.1", "1.2.3.4", set()) == "10.0.0.1"


def test_a_bad_trusted_proxy_entry_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        client_address("10.0.0.1", "1.2.3.4", {"10.0.0.0/33"})
    assert caught.value.field == "trusted_proxies"
