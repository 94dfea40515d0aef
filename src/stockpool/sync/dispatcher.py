"""The dispatcher: one worker per connected channel, run until stopped.

Each pass, per channel: process stored order webhooks, push due outbox rows until none is
due, poll the channel's orders every `poll_seconds` (with an overlap window), and reconcile
every `reconcile_seconds` (healing by the channel's policy). Pushing comes first: a
reconciliation reads the channel back one slice of listings per pass, and only when the
channel's rate budget has room for the slice, so it never holds pushes up for long. Several
dispatchers may run against one PostgreSQL database: outbox rows are leased, claims skip
locked rows, and order ingestion is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from stockpool.channels.errors import ChannelError
from stockpool.channels.protocol import Connector
from stockpool.channels.shopify import ShopifyConnector, ShopifySettings
from stockpool.domain.errors import InvalidInput
from stockpool.services import sync
from stockpool.services.context import Services
from stockpool.services.ports import ChannelConnection, SyncState
from stockpool.services.sync import Drift
from stockpool.sync.worker import READ_CHUNK, ChannelWorker, SyncSettings

log = logging.getLogger("stockpool.sync")


def default_owner() -> str:
    """A name for this dispatcher process, unique among concurrent ones."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def build_connector(connection: ChannelConnection, client: httpx.AsyncClient) -> Connector:
    """The connector of a channel's kind.

    Raises:
        InvalidInput: no connector exists for the channel's kind yet.
    """
    if connection.kind == "shopify":
        settings = ShopifySettings(
            connection.shop, connection.base_url, connection.token, connection.secrets
        )
        return ShopifyConnector(client, settings)
    raise InvalidInput(f"no connector for channel kind {connection.kind!r} yet")


@dataclass(frozen=True)
class DispatchSettings:
    """How often the dispatcher does each of its jobs."""

    idle_seconds: float = 0.05
    poll_seconds: float = 60.0
    reconcile_seconds: float = 900.0
    sync: SyncSettings = SyncSettings()


async def reconcile_channel(
    worker: ChannelWorker, *, heal: bool | None = None, states: Sequence[SyncState] | None = None
) -> list[Drift]:
    """Catch up on the channel's orders, read its quantities back (of every mapped listing,
    or of `states`) and compare.

    `heal` None follows the channel's policy (`repush` heals, `report` only reports).
    """
    await worker.catch_up()
    actual = await worker.read_back(states)
    repush = worker.connection.heal == "repush" if heal is None else heal
    return sync.reconcile(worker.app, worker.channel, actual, heal=repush)


class Dispatcher:
    """Runs a worker per connected channel on one HTTP client."""

    def __init__(
        self,
        app: Services,
        client: httpx.AsyncClient,
        *,
        settings: DispatchSettings | None = None,
        owner: str | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.app, self.client = app, client
        self.settings = settings or DispatchSettings()
        self.owner = owner or default_owner()
        self._monotonic = monotonic or (lambda: app.clock().timestamp())
        self.workers: dict[str, ChannelWorker] = {}
        self._due: dict[tuple[str, str], float] = {}
        self._sweeps: dict[str, list[SyncState]] = {}  # listings still to reconcile

    def refresh(self, channels: list[str] | None = None) -> None:
        """Start a worker for every connected channel (or those named) that has none."""
        for connection in sync.connections(self.app):
            wanted = channels is None or connection.channel in channels
            if not wanted or connection.channel in self.workers:
                continue
            try:
                connector = build_connector(connection, self.client)
            except InvalidInput as exc:
                log.warning("channel %s not synced: %s", connection.channel, exc)
                continue
            self.workers[connection.channel] = ChannelWorker(
                self.app, connection, connector, owner=self.owner, settings=self.settings.sync
            )

    def _is_due(self, channel: str, job: str, every: float) -> bool:
        now = self._monotonic()
        if now < self._due.get((channel, job), 0.0):
            return False
        self._due[(channel, job)] = now + every
        return True

    async def pass_once(self) -> int:
        """One pass over every channel; the number of outbox rows handled."""
        handled = 0
        for code, worker in sorted(self.workers.items()):
            if worker.stopped:
                continue
            try:
                handled += await self._serve(code, worker)
            except ChannelError as exc:
                log.warning("channel %s: %s", code, exc)
        return handled

    async def _serve(self, code: str, worker: ChannelWorker) -> int:
        await worker.process_webhooks()
        handled = await worker.drain(rounds=50)
        if self._is_due(code, "poll", self.settings.poll_seconds):
            await worker.catch_up()
        if self._is_due(code, "reconcile", self.settings.reconcile_seconds):
            self._sweeps[code] = sync.states(self.app, code)
        await self._reconcile_slice(code, worker)
        return handled

    async def _reconcile_slice(self, code: str, worker: ChannelWorker) -> None:
        """Reconcile the next slice of a sweep, if the rate budget has room for it now."""
        left = self._sweeps.get(code)
        if not left:
            return
        cost = worker.read_cost("quantities") + worker.read_cost("orders")
        if worker.budget.wait_for(cost) > 0:
            return  # pushes first: try again next pass
        part, self._sweeps[code] = left[:READ_CHUNK], left[READ_CHUNK:]
        drift = await reconcile_channel(worker, states=part)
        if drift:
            log.warning("channel %s: %d listings drift", code, len(drift))

    async def run(self, *, stop: asyncio.Event | None = None, passes: int | None = None) -> None:
        """Run passes until `stop` is set (or `passes` passes are done)."""
        done = 0
        while not (stop is not None and stop.is_set()) and (passes is None or done < passes):
            self.refresh()
            handled = await self.pass_once()
            done += 1
            if handled == 0:
                await asyncio.sleep(self.settings.idle_seconds)
