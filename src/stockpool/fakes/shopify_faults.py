"""How the fake Shopify misbehaves: its cost bucket, injected API faults, and webhooks that
arrive late, twice, out of order or never.

Each of these is what a real shop does to a client at times; the fake does it on demand,
from a seeded generator, so that a test can replay it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime

from starlette.responses import JSONResponse, Response


@dataclass
class Bucket:
    """The leaky cost bucket of one app x shop."""

    maximum: float = 1000.0
    restore_rate: float = 100.0
    available: float = 1000.0
    at: datetime | None = None

    def refill(self, now: datetime) -> None:
        """Restore what leaked back since the last call."""
        if self.at is not None:
            elapsed = max(0.0, (now - self.at).total_seconds())
            self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.at = now

    def status(self) -> dict[str, float]:
        """The `throttleStatus` Shopify reports."""
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class FaultQueue:
    """Faults the next API calls meet, in order: "429" (value = Retry-After), "500",
    "503", "reset", "slow" (value = seconds), "401"."""

    pending: list[tuple[str, float]] = field(default_factory=list)

    def add(self, kind: str, *, times: int, value: float) -> None:
        """Fail the next `times` calls with `kind`."""
        self.pending.extend([(kind, value)] * times)

    async def next_answer(self) -> Response | None:
        """The next call's fault as an answer (None: answer normally, maybe after a delay).

        Raises:
            ConnectionResetError: for "reset".
        """
        if not self.pending:
            return None
        kind, value = self.pending.pop(0)
        if kind == "slow":
            await asyncio.sleep(value)
            return None
        if kind == "reset":
            raise ConnectionResetError("connection reset by the fake")
        if kind == "429":
            headers = {"Retry-After": f"{value:g}"}
            return JSONResponse({"errors": "Too Many Requests"}, status_code=429, headers=headers)
        if kind == "401":
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        return JSONResponse({"errors": "Internal Server Error"}, status_code=int(kind))


@dataclass
class Delivery:
    """A webhook ready to send: where it goes is up to the caller."""

    topic: str
    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookChaos:
    """How badly webhooks behave: probabilities per delivery, from a seeded generator."""

    duplicate: float = 0.0
    drop: float = 0.0
    delay: float = 0.0
    reorder: bool = False
    seed: int = 0


class WebhookQueue:
    """Webhooks waiting to be sent, and those held back for a later send."""

    def __init__(self, rnd: random.Random) -> None:
        self._random = rnd
        self._outbox: list[Delivery] = []
        self._held: list[Delivery] = []

    def add(self, delivery: Delivery) -> None:
        """Queue a delivery."""
        self._outbox.append(delivery)

    def take(self, chaos: WebhookChaos, *, everything: bool = False) -> list[Delivery]:
        """The deliveries to send now, after `chaos`: some dropped, duplicated, held back
        for a later call, reordered. `everything` releases held ones and applies no chaos."""
        pending, self._outbox = self._outbox, []
        sent, self._held = self._held, []
        if everything:
            return sent + pending
        rnd = self._random
        for delivery in pending:
            if rnd.random() < chaos.drop:
                continue
            if rnd.random() < chaos.delay:
                self._held.append(delivery)
                continue
            sent.append(delivery)
            if rnd.random() < chaos.duplicate:
                sent.append(delivery)
        if chaos.reorder:
            rnd.shuffle(sent)
        return sent
