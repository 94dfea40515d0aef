"""A realistic demo brand: catalog, channels, rules and two years of ledger history.

`brand` draws the catalog (apparel in sizes and colours, a long tail of accessories,
bundles and multipacks), `calendar` the demand seasons, `history` simulates every day of
selling and replenishing with real stockouts, `handling` the returns, damage, write-offs and
transfers between locations, and `order_records`, `handling_records` and `ledger` turn the
result into ledger records, which `writer` writes in bulk; `generate` ties them together.
Everything is drawn from one seeded generator: the same seed gives the same brand.

`live` produces traffic on a running store. `shop_server`, `shop_link` and `shoppers` serve
a fake Shopify on 127.0.0.1, link the demo's Shopify channel to it and let its own customers
buy; `live_shop` runs it beside `stockpool demo live` with the sync dispatcher, and
`served_shop` beside `stockpool demo run --fake-shopify`.
"""
