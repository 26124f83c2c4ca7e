"""Who may call a team server: users, API tokens, roles, and failed-login throttling.

The server builds one :class:`AuthService` over its stores and calls
:meth:`~AuthService.authenticate` and :meth:`~AuthService.authorize` on every request;
:class:`LoginRateLimiter` and :func:`client_address` throttle guessing per client.
"""

from __future__ import annotations

from loopml.auth.ratelimit import LoginRateLimiter, client_address
from loopml.auth.service import BOOTSTRAP_USER, AuthService
from loopml.auth.tokens import TOKEN_PREFIX, format_token, hash_secret, parse_expiry, split_token

__all__ = [
    "BOOTSTRAP_USER",
    "TOKEN_PREFIX",
    "AuthService",
    "LoginRateLimiter",
    "client_address",
    "format_token",
    "hash_secret",
    "parse_expiry",
    "split_token",
]
