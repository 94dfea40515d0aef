"""The sync engine: drains the outbox to each channel, within the channel's rate budget,
ingests the channel's orders (webhooks and a catch-up poll), and reconciles."""
