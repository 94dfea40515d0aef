"""The events of sync: a value the channel took, a push that failed, drift found.

They are recorded in the unit of work of what they describe (`services.events.publish`),
for the live stream and outgoing webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stockpool.domain.events import EventType, NewEvent
from stockpool.domain.ids import ChannelCode
from stockpool.services.ports import SyncTask

if TYPE_CHECKING:
    from stockpool.services.sync import Drift, Retry


def sync_events(
    channel: ChannelCode,
    acknowledged: Sequence[tuple[SyncTask, str | None]],
    retries: Sequence[Retry],
) -> list[NewEvent]:
    """`sync.acknowledged` per value the channel took, `sync.failed` per failed push."""
    found = [
        NewEvent(
            EventType.SYNC_ACKNOWLEDGED,
            None,
            channel,
            {
                "channel": channel,
                "listing": task.listing,
                "quantity": task.desired,
                "version": task.version,
                "response_id": response_id,
            },
        )
        for task, response_id in acknowledged
    ]
    found += [
        NewEvent(
            EventType.SYNC_FAILED,
            None,
            channel,
            {
                "channel": channel,
                "listing": retry.task.listing,
                "quantity": retry.task.desired,
                "outcome": retry.outcome,
                "error": retry.error,
                "retry_at": retry.at.isoformat(),
            },
        )
        for retry in retries
        if retry.outcome is not None
    ]
    return found


def drift_event(channel: ChannelCode, drift: Drift) -> NewEvent:
    """`drift.detected`: the channel shows what it should not."""
    payload = {
        "channel": channel,
        "listing": drift.listing,
        "expected": drift.expected,
        "actual": drift.actual,
        "since": drift.since.isoformat(),
        "cause": drift.cause,
    }
    return NewEvent(EventType.DRIFT_DETECTED, None, channel, payload)
