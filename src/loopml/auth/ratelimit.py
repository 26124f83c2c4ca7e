"""Failed-login throttling per client address, and finding that address behind proxies."""

from __future__ import annotations

import functools
import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Collection

from loopml.core.errors import RateLimitedError, ValidationError

__all__ = ["LoginRateLimiter", "client_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class LoginRateLimiter:
    """Refuse an address for a while after too many failed logins (a sliding window).

    The state lives in this process's memory: each server process counts on its own, and a
    restart forgets. That bounds guessing, which is all it is for: a token's secret holds
    256 random bits. Safe to share between threads.

    Args:
        max_failures: Failures within ``window_s`` that block the address.
        window_s: Length of the sliding window, in seconds.
        block_s: How long a blocked address is refused, in seconds.
        clock: Monotonic seconds; tests pass a fake.
        max_addresses: Addresses tracked at most; beyond it the stalest are forgotten, so
            a flood of addresses cannot exhaust memory.

    Example:
        >>> now = [0.0]
        >>> limiter = LoginRateLimiter(max_failures=2, clock=lambda: now[0])
        >>> limiter.record_failure("10.0.0.7")
        >>> limiter.record_failure("10.0.0.7")
        >>> limiter.check("10.0.0.7")
        Traceback (most recent call last):
        ...
        loopml.core.errors.RateLimitedError: too many failed logins from 10.0.0.7: try again in 60 s
        >>> now[0] = 60.0
        >>> limiter.check("10.0.0.7")
    """

    def __init__(
        self,
        max_failures: int = 10,
        window_s: float = 60.0,
        block_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        if max_failures < 1 or window_s <= 0 or block_s <= 0 or max_addresses < 1:
            raise ValidationError(
                "LoginRateLimiter needs max_failures >= 1, window_s > 0, block_s > 0 and "
                "max_addresses >= 1",
                field="rate_limit",
            )
        self.max_failures = max_failures
        self.window_s = window_s
        self.block_s = block_s
        self.clock = clock
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise :class:`RateLimitedError` while ``address`` is blocked; call before login.

        Raises:
            RateLimitedError: with ``retry_after_s``, the seconds until the block ends.
        """
        with self._lock:
            until = self._blocked_until.get(address)
            if until is None:
                return
            remaining = until - self.clock()
            if remaining <= 0:
                del self._blocked_until[address]
                return
        raise RateLimitedError(
            f"too many failed logins from {address}: try again in {math.ceil(remaining)} s",
            retry_after_s=remaining,
        )

    def record_failure(self, address: str) -> None:
        """Count one failed login from ``address``; block it at ``max_failures``."""
        with self._lock:
            now = self.clock()
            if self._blocked_until.get(address, -math.inf) > now:
                return
            failures = self._failures.get(address)
            if failures is None:
                if len(self._failures) + len(self._blocked_until) >= self.max_addresses:
                    self._forget_stale(now)
                failures = self._failures[address] = deque()
            failures.append(now)
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            if len(failures) >= self.max_failures:
                del self._failures[address]
                self._blocked_until[address] = now + self.block_s

    def reset(self, address: str) -> None:
        """Forget the failures of ``address`` (after a successful login, say)."""
        with self._lock:
            self._failures.pop(address, None)

    def _forget_stale(self, now: float) -> None:
        """Drop expired state, then the oldest counters, to stay under ``max_addresses``."""
        horizon = now - self.window_s
        for address in [a for a, f in self._failures.items() if not f or f[-1] <= horizon]:
            del self._failures[address]
        for address in [a for a, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[address]
        # Blocks are kept: forgetting one would let a flood of addresses unblock a guesser.
        excess = len(self._failures) + len(self._blocked_until) - self.max_addresses + 1
        for address in list(self._failures)[: max(excess, 0)]:
            del self._failures[address]


def client_address(
    peer_ip: str, x_forwarded_for: str | None, trusted_proxies: Collection[str]
) -> str:
    """The address a request came from, believing ``X-Forwarded-For`` only from proxies.

    The header is used only when the connecting peer is a trusted proxy. Each proxy appends
    the address it saw, so the header is read from the right: the first address that is not
    itself a trusted proxy is the client (every address to its left could be forged). When
    every address is a trusted proxy, the left-most one is taken; a malformed entry where the
    client should be falls back to the peer.

    Args:
        peer_ip: The address of the TCP peer.
        x_forwarded_for: The raw ``X-Forwarded-For`` header, or None.
        trusted_proxies: Addresses or networks (``10.0.0.0/8``) of the proxies in front
            of the server.

    Example:
        >>> client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.3", {"10.0.0.0/24"})
        '1.2.3.4'
        >>> client_address("1.2.3.4", "6.6.6.6", {"10.0.0.0/24"})
        '1.2.3.4'

    Raises:
        ValidationError: (field ``trusted_proxies``) an entry is not an address or network.
    """
    literals, networks = _trusted(frozenset(trusted_proxies))
    peer = _parse(peer_ip)
    if not x_forwarded_for or not _is_trusted(peer_ip, peer, literals, networks):
        return peer_ip if peer is None else str(peer)
    hops = [hop.strip() for hop in x_forwarded_for.split(",")]
    hops = [hop for hop in hops if hop] or [peer_ip]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return peer_ip if peer is None else str(peer)
        if not _is_trusted(hop, address, literals, networks):
            return str(address)
    leftmost = _parse(hops[0])
    return str(leftmost) if leftmost is not None else peer_ip


@functools.lru_cache(maxsize=16)
def _trusted(entries: frozenset[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValidationError(
                f"trusted_proxies: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)",
                field="trusted_proxies",
            ) from None
    return entries, tuple(networks)


def _is_trusted(
    text: str, address: IPAddress | None, literals: frozenset[str], networks: tuple[IPNetwork, ...]
) -> bool:
    if text in literals:
        return True
    return address is not None and any(address in network for network in networks)


def _parse(text: str) -> IPAddress | None:
    """An address from ``1.2.3.4``, ``1.2.3.4:80``, ``::1`` or ``[::1]:80``; None if none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
