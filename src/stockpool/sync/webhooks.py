"""Receiving channel webhooks: the verifiers the API's `/webhooks/{kind}` route uses.

A delivery names its account (Shopify: `X-Shopify-Shop-Domain`); its signature is checked
with that account's secrets (current and previous). Verified deliveries are stored by the
API and processed later by the dispatcher (`ChannelWorker.process_webhooks`).
"""

from __future__ import annotations

from collections.abc import Mapping

from stockpool.channels.shopify import verify_webhook
from stockpool.channels.webhooks import header
from stockpool.domain.errors import NotFound
from stockpool.services import sync
from stockpool.services.context import Services
from stockpool.services.webhooks_in import BadSignature, WebhookRegistry


def registry(app: Services) -> WebhookRegistry:
    """The verifiers of every channel kind with a connector (no handlers: the dispatcher
    processes stored deliveries, since processing needs the channel's API)."""

    def shopify(headers: Mapping[str, str], body: bytes) -> str:
        shop = header(headers, "X-Shopify-Shop-Domain") or ""
        try:
            connection = sync.connection_for_shop(app, shop)
        except NotFound:
            raise BadSignature(f"no channel is connected to the shop {shop!r}") from None
        return verify_webhook(headers, body, connection.secrets)

    return WebhookRegistry(verifiers={"shopify": shopify})
