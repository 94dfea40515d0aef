"""Count reconciliation rules without a database: thresholds and line statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockpool.domain.counts import CountLine, CountLineStatus, Threshold, as_of, status_for
from stockpool.domain.ids import LocationCode, Sku


def test_a_line_without_variance_is_matched() -> None:
    assert status_for(0, Decimal(0), Threshold(units=0)) is CountLineStatus.MATCHED


@pytest.mark.parametrize(
    ("variance", "value", "status"),
    [
        (5, Decimal("10"), CountLineStatus.POSTED),
        (-5, Decimal("-10"), CountLineStatus.POSTED),
        (6, Decimal("12"), CountLineStatus.PENDING),
        (-2, Decimal("-50.01"), CountLineStatus.PENDING),
        (-2, None, CountLineStatus.POSTED),
    ],
)
def test_variances_above_units_or_value_wait(
    variance: int, value: Decimal | None, status: CountLineStatus
) -> None:
    threshold = Threshold(units=5, value=Decimal("50"))
    assert status_for(variance, value, threshold) is status


def test_no_threshold_posts_everything() -> None:
    assert status_for(-10_000, Decimal("-1e9"), Threshold()) is CountLineStatus.POSTED


def test_a_line_knows_its_variance_in_units_and_value() -> None:
    line = CountLine(
        Sku("A"), LocationCode("WH1"), 7, None, 10, Decimal("2.50"), CountLineStatus.POSTED
    )
    assert (line.variance, line.value) == (-3, Decimal("-7.50"))


def test_on_hand_as_of_a_past_time_takes_off_what_moved_since() -> None:
    assert as_of(12, 4) == 8
