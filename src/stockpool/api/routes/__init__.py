"""The API's routes, one module per area. Routes parse, call a service, and render."""
