"""Channel connectors: one per sales channel, on an injected `httpx` client.

`protocol` defines the interface every connector implements and the values it exchanges;
`errors` the failures a connector classifies; `http` the shared request handling;
`webhooks` the signature checks; `shopify` the Shopify Admin GraphQL connector.
"""
