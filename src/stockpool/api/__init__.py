"""The REST API: a FastAPI application over the services (see `stockpool.api.app`)."""
