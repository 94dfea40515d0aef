"""Every operation of the live OpenAPI document, fuzzed by schemathesis over real HTTP.

A bounded run (a few examples per operation) on a server on 127.0.0.1: no answer may be a
5xx, and every answer must match the document (status, content type, body schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from stockpool.api.app import create_app
from stockpool.bootstrap import ApiSettings, Settings, build_services, initialise
from stockpool.services import access, catalog, channels, stock
from stockpool.services.stock import Actor
from tests.apiclient import serving

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fuzz.db'}", data_dir=tmp_path)
    initialise(settings).dispose()
    services = build_services(settings)
    key = access.create_key(services, "admin", name="fuzzer").secret
    catalog.add_location(services, "WH1", "Main", "warehouse")
    catalog.add_item(services, "TEE-M", "Tee")
    channels.add_channel(services, "WEB", "shopify", ["WH1"])
    channels.add_listing(services, "WEB", "tee", "TEE-M")
    stock.receive(services, "TEE-M", "WH1", 50, actor=Actor("setup"))
    app = create_app(services, ApiSettings(run_workers=False))
    with serving(app) as base:
        yield base, key
    services.uow.engine.dispose()  # type: ignore[attr-defined]


def _last(operation: schemathesis.APIOperation) -> bool:
    """Revoking keys goes last: it may revoke the fuzzer's own key."""
    return operation.method.upper() == "DELETE" and operation.path.startswith("/v1/keys")


def test_no_operation_answers_a_5xx_or_breaks_its_schema(server: tuple[str, str]) -> None:
    base, key = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=_last)
    assert len(operations) >= 70
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {key}"})
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert failures == []
    assert len(calls) >= 3 * len(operations)
    assert not [status for status in calls if status >= 500]
