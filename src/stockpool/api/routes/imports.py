"""CSV imports (uploads) and exports, and the ledger check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, Security, UploadFile
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from stockpool.api.problems import ApiProblem, documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.interchange import ImportReportPublic, VerifyPublic
from stockpool.api.security import CHALLENGE, Reader, bearer, identify, services_of
from stockpool.domain.access import ApiKey, Permission, allows
from stockpool.services import exports, imports, po_imports
from stockpool.services.imports import ImportReport
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

router = APIRouter(
    tags=["interchange"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
ImportKind = Literal["items", "locations", "stock", "purchase-orders", "shopify-inventory"]
ExportKind = Literal["items", "locations", "stock", "purchase-orders"]
CATALOG_IMPORTS = frozenset({"items", "locations"})
Upload = Annotated[UploadFile, File(description="The CSV file (UTF-8, header row first).")]


def _importer(
    kind: str, key: ApiKey, name: str, create_locations: bool
) -> Callable[..., ImportReport]:
    actor = Actor(key.actor, f"import:{name}")
    table: dict[str, Callable[..., ImportReport]] = {
        "items": imports.import_items,
        "locations": imports.import_locations,
        "stock": lambda app, data, **kw: imports.import_stock(app, data, actor=actor, **kw),
        "purchase-orders": lambda app, data, **kw: po_imports.import_purchase_orders(
            app, data, actor=actor, **kw
        ),
        "shopify-inventory": lambda app, data, **kw: imports.import_shopify_inventory(
            app, data, actor=actor, create_locations=create_locations, **kw
        ),
    }
    return table[kind]


def import_key(
    request: Request,
    kind: ImportKind,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> ApiKey:
    """Catalog imports need an admin key; stock and order imports an operator key."""
    key = identify(request)
    if key is None:
        raise ApiProblem(401, "unauthorized", "a valid API key is needed", headers=CHALLENGE)
    needed = Permission.ADMINISTER if kind in CATALOG_IMPORTS else Permission.OPERATE
    if not allows(key.role, needed):
        raise ApiProblem(
            403, "forbidden", f"a key with role {key.role.value!r} may not import {kind}"
        )
    return key


@router.post("/imports/{kind}", summary="Import a CSV file", responses=documented(404, 409, 413))
async def import_file(
    request: Request,
    kind: ImportKind,
    key: Annotated[ApiKey, Depends(import_key)],
    file: Upload,
    skip_bad_rows: Annotated[
        bool, Form(description="Import the good rows, report the bad.")
    ] = False,
    create_locations: Annotated[bool, Form(description="Shopify: add unknown locations.")] = False,
) -> ImportReportPublic:
    """Import a CSV file; a file with a bad row changes nothing unless `skip_bad_rows`."""
    data = await file.read()
    name = file.filename or f"{kind}.csv"
    importer = _importer(kind, key, name, create_locations)
    report = await run_in_threadpool(
        lambda: importer(services_of(request), data, name=name, skip_bad_rows=skip_bad_rows)
    )
    return ImportReportPublic.of(report)


@router.get(
    "/exports/{kind}",
    summary="Export a CSV file",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_file(request: Request, _key: Reader, kind: ExportKind) -> Response:
    """Every item, location, stock level or purchase order line as CSV."""
    text = exports.EXPORTERS[kind](services_of(request))
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8")


@router.get("/verify", summary="Check the ledger")
def verify_ledger(request: Request, _key: Reader) -> VerifyPublic:
    """Rebuild every balance from the ledger and report each difference."""
    return VerifyPublic.of(verify(services_of(request)))
