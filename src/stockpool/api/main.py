"""The application as uvicorn's worker processes build it: settings from the environment.

`stockpool serve` runs `uvicorn stockpool.api.main:app_from_environment --factory`, with
the database URL in `STOCKPOOL_DATABASE_URL`, so every worker builds its own engine.
"""

from __future__ import annotations

from fastapi import FastAPI

from stockpool.api.app import create_app
from stockpool.bootstrap import build_api


def app_from_environment() -> FastAPI:
    """The API on the database the environment names."""
    return build_api(create_app)
