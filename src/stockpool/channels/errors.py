"""The failures a channel connector reports, classified by what the caller should do.

Callers never look at HTTP status codes or channel error strings: a connector maps them to
one of these at its boundary. Transient failures and throttling are retried; an expired
credential stops the channel until it is renewed; a rejected request needs a person. The
outcome of each quantity in a write (applied, stale compare-and-set, invalid listing,
rejected) is reported per quantity in the push result, not raised.
"""

from __future__ import annotations

from stockpool.domain.errors import StockpoolError


class ChannelError(StockpoolError):
    """A channel call failed.

    Attributes:
        kind: a short stable name of the failure class (for logs and sync health).
        retryable: whether the same call may succeed later without anyone's help.
    """

    kind = "error"
    retryable = False


class AuthExpired(ChannelError):
    """The channel refused our credentials (expired or revoked token)."""

    kind = "auth_expired"


class Throttled(ChannelError):
    """The channel asks us to slow down; `retry_after` is its wait in seconds."""

    kind = "throttled"
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class Transient(ChannelError):
    """A failure that a retry may cure: 5xx, timeout, connection reset."""

    kind = "transient"
    retryable = True


class Rejected(ChannelError):
    """The channel refused the request for a reason a retry will not change."""

    kind = "rejected"
