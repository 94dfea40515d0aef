"""Commands for purchasing: suppliers, their terms per item, and purchase orders."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Annotated

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, err, errors_as_exit, fail, out, parse_with, state
from stockpool.domain.csv_formats import parse_instant
from stockpool.domain.purchasing import PoStatus, PurchaseOrder, Supplier
from stockpool.domain.quantities import parse_units
from stockpool.services import purchasing

supplier_app = typer.Typer(help="Suppliers and their terms per item.", no_args_is_help=True)
po_app = typer.Typer(help="Purchase orders: draft, open, receive, close.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Lines = Annotated[
    list[str] | None,
    typer.Option("--line", help="SKU:QTY or SKU:QTY@COST (repeat for more lines)."),
]
Expected = Annotated[
    str | None, typer.Option("--expected", help="Expected arrival, YYYY-MM-DD or ISO time.")
]


def parse_lines(texts: list[str] | None) -> tuple[dict[str, int], dict[str, Decimal | str]]:
    """Quantities and costs from `--line SKU:QTY[@COST]` options (failing cleanly)."""
    quantities: dict[str, int] = {}
    costs: dict[str, Decimal | str] = {}
    for text in texts or []:
        head, _, cost = text.partition("@")
        sku, _, qty = head.rpartition(":")
        if not sku:
            fail(f"--line must be SKU:QTY or SKU:QTY@COST, got {text!r}")
        if sku in quantities:
            fail(f"--line {sku} is given twice")
        quantities[sku] = parse_with(partial(parse_units, what=f"quantity of {sku}"), qty)
        if cost:
            costs[sku] = cost
    return quantities, costs


def supplier_json(s: Supplier) -> dict[str, object]:
    """A supplier as JSON."""
    return {
        "code": s.code,
        "name": s.name,
        "currency": s.currency,
        "lead_time_days": s.lead_time_days,
    }


@supplier_app.command("add")
def supplier_add(
    ctx: typer.Context,
    code: str,
    name: Annotated[str, typer.Option("--name", help="The supplier's name.")],
    currency: Annotated[str, typer.Option(help="ISO currency of its prices.")] = "USD",
    lead_time: Annotated[int, typer.Option("--lead-time", help="Default lead time, days.")] = 14,
) -> None:
    """Add a supplier."""
    with errors_as_exit():
        s = purchasing.add_supplier(
            state(ctx).services(), code, name, currency=currency, lead_time_days=lead_time
        )
    out.print(f"supplier {s.code} added ({s.currency}, {s.lead_time_days} days)")


@supplier_app.command("update")
def supplier_update(
    ctx: typer.Context,
    code: str,
    name: Annotated[str | None, typer.Option("--name")] = None,
    currency: Annotated[str | None, typer.Option("--currency")] = None,
    lead_time: Annotated[int | None, typer.Option("--lead-time")] = None,
) -> None:
    """Change a supplier's name, currency or default lead time."""
    with errors_as_exit():
        s = purchasing.update_supplier(
            state(ctx).services(), code, name=name, currency=currency, lead_time_days=lead_time
        )
    out.print(f"supplier {s.code}: {s.name}, {s.currency}, {s.lead_time_days} days")


@supplier_app.command("list")
def supplier_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every supplier."""
    with errors_as_exit():
        rows = purchasing.list_suppliers(state(ctx).services())
    if as_json:
        emit_json([supplier_json(s) for s in rows])
        return
    table = Table("code", "name", "currency", "lead time (days)")
    for s in rows:
        table.add_row(s.code, s.name, s.currency, str(s.lead_time_days))
    out.print(table)


@supplier_app.command("terms")
def supplier_terms(
    ctx: typer.Context,
    supplier: str,
    sku: Annotated[str | None, typer.Argument(help="Set the terms of this item.")] = None,
    cost: Annotated[str | None, typer.Option("--cost", help="Unit cost.")] = None,
    moq: Annotated[int, typer.Option("--moq", help="Minimum order quantity.")] = 1,
    case_pack: Annotated[int, typer.Option("--case-pack", help="Units per case.")] = 1,
    lead_time: Annotated[int | None, typer.Option("--lead-time", help="Days.")] = None,
    as_json: Json = False,
) -> None:
    """Set a supplier's terms for SKU (with --cost), or list its terms (without SKU)."""
    services = state(ctx).services
    with errors_as_exit():
        if sku is not None:
            if cost is None:
                fail("give --cost to set terms")
            purchasing.set_supplier_item(
                services(),
                supplier,
                sku,
                unit_cost=cost,
                moq=moq,
                case_pack=case_pack,
                lead_time_days=lead_time,
            )
        rows = purchasing.supplier_terms(services(), supplier)
    if as_json:
        emit_json([{**t.__dict__, "unit_cost": str(t.unit_cost)} for t in rows])
        return
    table = Table("SKU", "unit cost", "MOQ", "case pack", "lead time", title=supplier)
    for t in rows:
        lead = "" if t.lead_time_days is None else str(t.lead_time_days)
        table.add_row(t.sku, str(t.unit_cost), str(t.moq), str(t.case_pack), lead)
    out.print(table)


@supplier_app.command("lead-times")
def supplier_lead_times(ctx: typer.Context, supplier: str, sku: str, as_json: Json = False) -> None:
    """Every lead time observed for SKU from SUPPLIER (days, oldest first)."""
    with errors_as_exit():
        days = purchasing.lead_times(state(ctx).services(), supplier, sku)
    if as_json:
        emit_json([str(d) for d in days])
        return
    out.print(", ".join(str(d) for d in days) or "no receipts yet")


def po_json(po: PurchaseOrder) -> dict[str, object]:
    """A purchase order as JSON."""
    return {
        "id": po.id,
        "supplier": po.supplier,
        "location": po.destination,
        "status": po.status.value,
        "reference": po.reference,
        "created_at": po.created_at.isoformat(),
        "opened_at": po.opened_at.isoformat() if po.opened_at else None,
        "expected_at": po.expected_at.isoformat() if po.expected_at else None,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_cost": str(line.unit_cost),
                "received": line.received,
                "outstanding": line.outstanding,
            }
            for line in po.lines
        ],
    }


def _print_po(po: PurchaseOrder, as_json: bool) -> None:
    if as_json:
        emit_json(po_json(po))
        return
    expected = po.expected_at.strftime("%Y-%m-%d") if po.expected_at else "no date"
    out.print(
        f"PO {po.id} {po.supplier} -> {po.destination}: {po.status.value}, expected {expected}"
    )
    table = Table("SKU", "ordered", "unit cost", "received", "outstanding")
    for line in po.lines:
        table.add_row(
            line.sku,
            str(line.quantity),
            str(line.unit_cost),
            str(line.received),
            str(line.outstanding),
        )
    out.print(table)


@po_app.command("create")
def po_create(
    ctx: typer.Context,
    supplier: Annotated[str, typer.Option("--supplier", help="Supplier code.")],
    to: Annotated[str, typer.Option("--to", help="Destination location.")],
    line: Lines = None,
    expected: Expected = None,
    reference: Annotated[str, typer.Option("--reference", help="Your PO number.")] = "",
    as_json: Json = False,
) -> None:
    """Draft a purchase order (costs default to the supplier's terms)."""
    quantities, costs = parse_lines(line)
    when = None if expected is None else parse_with(parse_instant, expected)
    with errors_as_exit():
        drafted = purchasing.create_po(
            state(ctx).services(),
            supplier,
            to,
            quantities,
            actor=state(ctx).actor_for(reference),
            costs=costs,
            expected_at=when,
        )
    for warning in drafted.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    _print_po(drafted.po, as_json)


@po_app.command("open")
def po_open(
    ctx: typer.Context, po_id: int, expected: Expected = None, as_json: Json = False
) -> None:
    """Send a draft: its units become incoming at the destination."""
    when = None if expected is None else parse_with(parse_instant, expected)
    with errors_as_exit():
        po = purchasing.open_po(
            state(ctx).services(), po_id, actor=state(ctx).actor_for(), expected_at=when
        )
    _print_po(po, as_json)


@po_app.command("expect")
def po_expect(ctx: typer.Context, po_id: int, date: str, as_json: Json = False) -> None:
    """Change the date a purchase order is expected."""
    when = parse_with(parse_instant, date)
    with errors_as_exit():
        po = purchasing.set_expected(state(ctx).services(), po_id, when)
    _print_po(po, as_json)


@po_app.command("receive")
def po_receive(ctx: typer.Context, po_id: int, line: Lines = None, as_json: Json = False) -> None:
    """Receive a purchase order, whole or by line (SKU:QTY[@LANDED_COST]); over is kept."""
    quantities, costs = parse_lines(line)
    with errors_as_exit():
        po = purchasing.receive_po(
            state(ctx).services(), po_id, quantities, actor=state(ctx).actor_for(), costs=costs
        )
    _print_po(po, as_json)


@po_app.command("close")
def po_close(ctx: typer.Context, po_id: int, as_json: Json = False) -> None:
    """Expect no more from a purchase order: what is outstanding stops being incoming."""
    with errors_as_exit():
        po = purchasing.close_po(state(ctx).services(), po_id, actor=state(ctx).actor_for())
    _print_po(po, as_json)


@po_app.command("cancel")
def po_cancel(ctx: typer.Context, po_id: int, as_json: Json = False) -> None:
    """Cancel a purchase order; units already received stay on the shelf."""
    with errors_as_exit():
        po = purchasing.cancel_po(state(ctx).services(), po_id, actor=state(ctx).actor_for())
    _print_po(po, as_json)


@po_app.command("show")
def po_show(ctx: typer.Context, po_id: int, as_json: Json = False) -> None:
    """One purchase order with its lines."""
    with errors_as_exit():
        po = purchasing.get_po(state(ctx).services(), po_id)
    _print_po(po, as_json)


@po_app.command("list")
def po_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="draft, open, ...")] = None,
    as_json: Json = False,
) -> None:
    """The newest purchase orders."""
    wanted = None
    if status is not None:
        try:
            wanted = PoStatus(status)
        except ValueError:
            fail(f"status must be one of {', '.join(s.value for s in PoStatus)}")
    with errors_as_exit():
        rows = purchasing.list_pos(state(ctx).services(), status=wanted)
    if as_json:
        emit_json([po_json(po) for po in rows])
        return
    table = Table("id", "supplier", "to", "status", "expected", "outstanding")
    for po in rows:
        table.add_row(
            str(po.id),
            po.supplier,
            po.destination,
            po.status.value,
            po.expected_at.strftime("%Y-%m-%d") if po.expected_at else "",
            str(sum(line.outstanding for line in po.lines)),
        )
    out.print(table)
