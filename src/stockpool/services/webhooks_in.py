"""Use cases of channel webhooks: verify and store a delivery at once, process it later.

A channel's webhook is answered as soon as it is verified and stored, so the channel never
waits on our processing. Verification is pluggable: each channel kind registers a verifier
(its signature scheme) that also says what identifies the delivery, so a delivery sent
twice is stored once. Handlers, one per channel kind, process stored deliveries afterwards;
a delivery whose handler fails is tried again, up to `MAX_PROCESSING_ATTEMPTS` times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from stockpool.domain.errors import NotFound, StockpoolError
from stockpool.domain.events import InboundDelivery
from stockpool.services.context import Services

MAX_PROCESSING_ATTEMPTS = 5
# Never kept with a delivery: they authenticate the sender to us, they are not its content.
PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class BadSignature(StockpoolError):
    """A webhook whose signature does not verify."""


class WebhookVerifier(Protocol):
    """Checks a channel's webhook and names it.

    Returns the delivery's dedupe key (the channel's own delivery or event id); raises
    BadSignature when the signature is missing or wrong.
    """

    def __call__(self, headers: Mapping[str, str], body: bytes) -> str: ...


class WebhookHandler(Protocol):
    """Processes one stored delivery of a channel kind (raises to be retried)."""

    def __call__(self, app: Services, delivery: InboundDelivery) -> None: ...


@dataclass(frozen=True)
class WebhookRegistry:
    """The verifier and handler of each channel kind."""

    verifiers: dict[str, WebhookVerifier] = field(default_factory=dict)
    handlers: dict[str, WebhookHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """A stored delivery, and whether it had been delivered before."""

    id: int
    duplicate: bool


def receive(
    app: Services,
    registry: WebhookRegistry,
    channel_kind: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Received:
    """Verify a channel's webhook and store it for processing.

    Raises:
        NotFound: no verifier is registered for the channel kind.
        BadSignature: the signature does not verify (nothing stored).
    """
    verifier = registry.verifiers.get(channel_kind)
    if verifier is None:
        raise NotFound(f"no webhook receiver for channel kind {channel_kind!r}")
    dedupe_key = verifier(headers, body)
    if not dedupe_key or len(dedupe_key) > 255:
        raise BadSignature("the webhook carries no usable delivery id")
    kept = {k.lower(): v for k, v in headers.items() if k.lower() not in PRIVATE_HEADERS}
    with app.uow() as uow:
        delivery_id, duplicate = uow.events.store_inbound(
            channel_kind, dedupe_key, kept, body, at=app.clock()
        )
        uow.commit()
    return Received(delivery_id, duplicate)


def process_pending(app: Services, registry: WebhookRegistry, *, limit: int = 50) -> int:
    """Process stored deliveries that have a handler; the number processed successfully."""
    if not registry.handlers:
        return 0
    with app.uow() as uow:
        pending = uow.events.unprocessed_inbound(
            channels=registry.handlers.keys(), limit=limit, max_attempts=MAX_PROCESSING_ATTEMPTS
        )
    done = 0
    for delivery in pending:
        error = None
        try:
            registry.handlers[delivery.channel](app, delivery)
        except Exception as exc:  # a handler's failure is recorded and retried, never fatal
            error = f"{type(exc).__name__}: {exc}"[:2000]
        with app.uow() as uow:
            uow.events.mark_inbound(
                delivery.id, processed_at=None if error else app.clock(), error=error
            )
            uow.commit()
        done += error is None
    return done


def get_delivery(app: Services, delivery_id: int) -> InboundDelivery:
    """One stored channel webhook."""
    with app.uow() as uow:
        return uow.events.get_inbound(delivery_id)
