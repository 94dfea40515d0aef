"""Counts, CSV imports and the ledger check."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from stockpool.api.schemas.common import Input, Output
from stockpool.domain.counts import Count
from stockpool.services.imports import ImportReport
from stockpool.services.verify import VerifyReport


class ThresholdPublic(Output):
    """Variances above either limit wait for approval."""

    units: int | None
    value: Decimal | None


class CountLinePublic(Output):
    """One reconciled line of a count."""

    sku: str
    location: str
    counted: int
    counted_at: datetime | None
    expected: int
    variance: int
    unit_cost: Decimal | None
    value: Decimal | None
    status: str
    flags: list[str]


class CountPublic(Output):
    """A count document with its lines."""

    id: int
    reference: str
    reason: str
    created_at: datetime
    threshold: ThresholdPublic
    lines: list[CountLinePublic]

    @classmethod
    def of(cls, c: Count) -> CountPublic:
        """From the domain record."""
        return cls(
            id=c.id,
            reference=c.reference,
            reason=c.reason,
            created_at=c.created_at,
            threshold=ThresholdPublic(units=c.threshold.units, value=c.threshold.value),
            lines=[
                CountLinePublic(
                    sku=x.sku,
                    location=x.location,
                    counted=x.counted,
                    counted_at=x.counted_at,
                    expected=x.expected,
                    variance=x.variance,
                    unit_cost=x.unit_cost,
                    value=x.value,
                    status=x.status.value,
                    flags=list(x.flags),
                )
                for x in c.lines
            ],
        )


class CountsPublic(Output):
    """A page of counts, newest first."""

    data: list[CountPublic]
    next_cursor: str | None


class LineKey(Input):
    """One line of a count: an item at a location."""

    sku: str = Field(min_length=1, max_length=100)
    location: str = Field(min_length=1, max_length=100)


class CountDecision(Input):
    """Lines to approve or reject (every pending line when `lines` is absent)."""

    lines: list[LineKey] | None = Field(default=None, min_length=1, max_length=10_000)


class RowProblem(Output):
    """A bad row of a file."""

    row: int
    column: str
    reason: str


class ImportReportPublic(Output):
    """What an import did."""

    rows: int
    imported: int
    unchanged: int
    skipped: list[RowProblem]

    @classmethod
    def of(cls, r: ImportReport) -> ImportReportPublic:
        """From the use case's report."""
        return cls(
            rows=r.rows,
            imported=r.imported,
            unchanged=r.unchanged,
            skipped=[RowProblem(row=e.row, column=e.column, reason=e.reason) for e in r.skipped],
        )


class DifferencePublic(Output):
    """A stored balance that the ledger does not rebuild."""

    sku: str
    location: str
    field: str
    stored: int
    rebuilt: int


class VerifyPublic(Output):
    """The outcome of rebuilding every balance from the ledger."""

    levels_checked: int
    clean: bool
    differences: list[DifferencePublic]
    invariant_violations: list[str]

    @classmethod
    def of(cls, r: VerifyReport) -> VerifyPublic:
        """From the use case's report."""
        return cls(
            levels_checked=r.levels_checked,
            clean=r.clean,
            differences=[DifferencePublic(**d.__dict__) for d in r.differences],
            invariant_violations=r.invariant_violations,
        )
