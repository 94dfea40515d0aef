"""Errors of the domain: what a person did that the rules do not allow.

Every error says what was wrong and, where it helps, what to do next. Entry points map them
to exit codes and HTTP statuses; the domain knows neither.
"""


class StockpoolError(Exception):
    """Base of every error stockpool raises on purpose."""


class InvalidInput(StockpoolError, ValueError):
    """A value that can never be right: a negative quantity, a malformed code."""


class NotFound(StockpoolError, LookupError):
    """A SKU, location, transfer or other record that does not exist."""


class AlreadyExists(StockpoolError):
    """A record with the same key exists already."""


class InsufficientStock(StockpoolError):
    """An operation would take more units than a stock state holds."""

    def __init__(self, message: str, *, asked: int, available: int) -> None:
        super().__init__(message)
        self.asked = asked
        self.available = available


class InvalidTransition(StockpoolError):
    """A document (transfer, order) is not in a state that allows the operation."""


class ConcurrentChange(StockpoolError):
    """A record changed between being read and a write that depended on it; retry."""
