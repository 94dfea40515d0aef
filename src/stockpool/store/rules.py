"""Allocation rules, event profiles and the audit of every rule change in the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.orm import aliased

from stockpool.domain.errors import AlreadyExists, NotFound
from stockpool.domain.ids import ChannelCode, LocationCode
from stockpool.domain.rules import EventProfile, Rule, RuleBook, RuleLevel
from stockpool.store.allocation_tables import (
    allocation_rules,
    channels,
    event_profiles,
    rule_changes,
)

_RULE_FIELDS = (
    "protect",
    "protect_start",
    "protect_end",
    "buffer",
    "percent",
    "maximum",
    "floor",
)


def rule_scope(level: RuleLevel, target: str | None, channel: str | None, event: str | None) -> str:
    """The unique key of a rule's place: level|target|channel|event."""
    return "|".join((level.value, target or "", channel or "", event or ""))


def rule_as_json(rule: Rule | None) -> dict[str, Any] | None:
    """A rule's settings as JSON (for the audit and the API)."""
    if rule is None:
        return None
    out: dict[str, Any] = {
        "level": rule.level.value,
        "target": rule.target,
        "channel": rule.channel,
        "event": rule.event,
    }
    for name in _RULE_FIELDS:
        value = getattr(rule, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[name] = value
    locs = rule.eligible_locations
    out["eligible_locations"] = None if locs is None else sorted(locs)
    return out


class SqlRules:
    """Rule repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _channel_id(self, code: ChannelCode | None) -> int | None:
        if code is None:
            return None
        found = self._c.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
        if found is None:
            raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
        return int(found)

    def _event_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self._c.execute(
            select(event_profiles.c.id).where(event_profiles.c.name == name)
        ).scalar()
        if found is None:
            raise NotFound(f"unknown event profile {name!r}: add it with `stockpool event add`")
        return int(found)

    def get_rule(
        self, level: RuleLevel, target: str | None, channel: ChannelCode | None, event: str | None
    ) -> Rule | None:
        """The rule at one place, if any."""
        scope = rule_scope(level, target, channel, event)
        for rule in self._rules(allocation_rules.c.scope == scope):
            return rule
        return None

    def save_rule(self, rule: Rule, *, at: datetime) -> None:
        """Insert or replace the rule at its place."""
        scope = rule_scope(rule.level, rule.target, rule.channel, rule.event)
        values: dict[str, Any] = {name: getattr(rule, name) for name in _RULE_FIELDS}
        locs = rule.eligible_locations
        values["eligible_locations"] = None if locs is None else sorted(locs)
        found = self._c.execute(
            update(allocation_rules)
            .where(allocation_rules.c.scope == scope)
            .values(updated_at=at, **values)
        )
        if found.rowcount == 0:
            self._c.execute(
                insert(allocation_rules).values(
                    scope=scope,
                    level=rule.level.value,
                    target=rule.target,
                    channel_id=self._channel_id(rule.channel),
                    event_id=self._event_id(rule.event),
                    updated_at=at,
                    **values,
                )
            )

    def delete_rule(
        self, level: RuleLevel, target: str | None, channel: ChannelCode | None, event: str | None
    ) -> None:
        """Remove the rule at one place (nothing if there is none)."""
        scope = rule_scope(level, target, channel, event)
        self._c.execute(delete(allocation_rules).where(allocation_rules.c.scope == scope))

    def _rules(self, *where: Any) -> list[Rule]:
        event = aliased(event_profiles)
        query = (
            select(
                allocation_rules,
                channels.c.code.label("channel_code"),
                event.c.name.label("event_name"),
            )
            .outerjoin(channels, channels.c.id == allocation_rules.c.channel_id)
            .outerjoin(event, event.c.id == allocation_rules.c.event_id)
            .where(*where)
            .order_by(allocation_rules.c.scope)
        )
        return [_rule(row) for row in self._c.execute(query)]

    def list_rules(self) -> list[Rule]:
        """Every rule, standing and in events."""
        return self._rules()

    def add_event(self, name: str, start: datetime, end: datetime, *, at: datetime) -> None:
        """Create an event profile (its rules are added with `save_rule`)."""
        if self._c.execute(
            select(event_profiles.c.id).where(event_profiles.c.name == name)
        ).first():
            raise AlreadyExists(f"an event profile named {name!r} exists already")
        self._c.execute(
            insert(event_profiles).values(name=name, starts_at=start, ends_at=end, created_at=at)
        )

    def list_events(self) -> list[tuple[str, datetime, datetime]]:
        """Every event profile: (name, start, end), by start."""
        query = select(event_profiles.c.name, event_profiles.c.starts_at, event_profiles.c.ends_at)
        rows = self._c.execute(query.order_by(event_profiles.c.starts_at))
        return [(name, start, end) for name, start, end in rows]

    def rule_book(self) -> RuleBook:
        """All rules and event profiles, ready to resolve."""
        rules = self.list_rules()
        events = tuple(
            EventProfile(name, start, end, tuple(r for r in rules if r.event == name))
            for name, start, end in self.list_events()
        )
        return RuleBook(tuple(r for r in rules if r.event is None), events)

    def record_change(
        self,
        scope: str,
        before: Rule | None,
        after: Rule | None,
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Append a rule change to the audit."""
        self._c.execute(
            insert(rule_changes).values(
                at=at,
                actor=actor,
                reason=reason,
                scope=scope,
                before=rule_as_json(before),
                after=rule_as_json(after),
            )
        )

    def changes(self, *, limit: int) -> list[dict[str, Any]]:
        """The newest rule changes first."""
        query = select(rule_changes).order_by(rule_changes.c.id.desc()).limit(limit)
        return [
            {
                "at": r.at,
                "actor": r.actor,
                "reason": r.reason,
                "scope": r.scope,
                "before": r.before,
                "after": r.after,
            }
            for r in self._c.execute(query)
        ]


def _rule(row: Row[Any]) -> Rule:
    locs = row.eligible_locations
    return Rule(
        level=RuleLevel(row.level),
        target=row.target,
        channel=None if row.channel_code is None else ChannelCode(row.channel_code),
        protect=row.protect,
        protect_start=row.protect_start,
        protect_end=row.protect_end,
        buffer=row.buffer,
        percent=None if row.percent is None else Decimal(row.percent).normalize(),
        maximum=row.maximum,
        floor=row.floor,
        eligible_locations=None if locs is None else frozenset(LocationCode(c) for c in locs),
        event=row.event_name,
    )
