"""Local fakes of sales channels, for tests, benchmarks and demos.

Each fake follows its channel's documented contract closely enough that our connector
cannot tell it from the channel in what it uses: paths, payloads, errors, rate limits,
compare-and-set, idempotency, the channel's own customers buying, and webhooks that arrive
late, twice, out of order or never. Fakes share no code with the connectors they test.
"""
