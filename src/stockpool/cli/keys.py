"""`stockpool keys`: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, err, errors_as_exit, out, state
from stockpool.domain.access import ApiKey
from stockpool.services import access

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def key_json(key: ApiKey) -> dict[str, object]:
    """A key as JSON (never the key itself)."""
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role.value,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="admin, operator, viewer or integration.")],
    name: Annotated[str | None, typer.Option("--name", help="What the key is for.")] = None,
    as_json: Json = False,
) -> None:
    """Create an API key. The key is printed once and cannot be shown again."""
    with errors_as_exit():
        created = access.create_key(state(ctx).services(), role, name=name)
    if as_json:
        emit_json({**key_json(created.key), "key": created.secret})
        return
    out.print(created.secret, soft_wrap=True)
    err.print(
        f"key {created.key.id} ({created.key.role.value}, {created.key.name!r}) created; "
        "it is shown only this once"
    )


@keys_app.command("list")
def keys_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every API key (never the keys themselves)."""
    with errors_as_exit():
        rows = access.list_keys(state(ctx).services())
    if as_json:
        emit_json([key_json(k) for k in rows])
        return
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for k in rows:
        table.add_row(
            str(k.id),
            k.name,
            k.role.value,
            k.prefix + "...",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: int, as_json: Json = False) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    with errors_as_exit():
        key = access.revoke_key(state(ctx).services(), key_id)
    if as_json:
        emit_json(key_json(key))
        return
    out.print(f"revoked key {key.id} ({key.name})")
