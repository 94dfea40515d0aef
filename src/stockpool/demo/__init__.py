"""A realistic demo brand: catalog, channels, rules and two years of ledger history.

`brand` draws the catalog (apparel in sizes and colours, a long tail of accessories,
bundles and multipacks), `calendar` the demand seasons, `history` simulates every day of
selling and replenishing with real stockouts, `writer` bulk-writes the result as ledger
records, and `generate` ties them together. `live` produces traffic on a running store.
Everything is drawn from one seeded generator: the same seed gives the same brand.
"""
