"""The `tanktop` command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from gateway import auth
from gateway import store as gateway_store
from shared import db
from shared import logging as platform_logging
from shared.migrations import migrate
from tanktop import catalog_cli, demo
from tanktop.registry import GATEWAY_PORT

app = typer.Typer(no_args_is_help=True, help="Tank Top personalization platform.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")
tenants_app = typer.Typer(no_args_is_help=True, help="Tenant settings.")
app.add_typer(keys_app, name="keys")
app.add_typer(tenants_app, name="tenants")
app.add_typer(catalog_cli.app, name="catalog")
app.command("demo")(demo.command)
err = Console(stderr=True)
T = TypeVar("T")


def exit_on_sigterm() -> None:
    """Let SIGTERM (kill, systemd, docker stop) end the process through its exit hooks, as Ctrl-C does.

    uvicorn shuts down gracefully on SIGTERM and then raises it again; with Python's default handler
    the process would die there, skipping the hook that stops the embedded PostgreSQL once its last
    user has gone. The server would then run on with nobody to stop it.
    """

    def leave(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


def database_url() -> str:
    """TANKTOP_DATABASE_URL when set; otherwise the embedded server under .data/postgres."""
    configured = os.environ.get("TANKTOP_DATABASE_URL")
    if configured:
        return configured
    from tanktop.postgres import embedded_server

    try:
        _, url = embedded_server()
    except RuntimeError as error:  # not installed: say what to do rather than show a traceback
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    return url


def with_key_store(work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await db.create_pool(database_url(), min_size=1, max_size=2)
        try:
            await migrate(pool, gateway_store.SCHEMA, "gateway")
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


@app.command()
def run(
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on.")] = GATEWAY_PORT,
    host: Annotated[str, typer.Option(envvar="HOST")] = "127.0.0.1",
) -> None:
    """Run the whole platform in one process (embedded PostgreSQL; in-process bus unless Kafka is configured)."""
    platform_logging.configure(os.environ.get("TANKTOP_LOG_LEVEL", "info"))
    exit_on_sigterm()
    from tanktop.local import build_platform

    url = database_url()
    kafka = os.environ.get("TANKTOP_KAFKA_BOOTSTRAP", "")
    platform = build_platform(url, kafka)
    where = f"http://{host}:{port}"
    print(
        f"Tank Top listening on {where}/api/1/{{apikey}}/ ({'Kafka ' + kafka if kafka else 'in-process bus'})",
        f"API docs: {where}/docs",
        "Make a key: .venv/bin/tanktop keys create --tenant myapp   (--role admin may also write the catalog)",
        sep="\n",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        platform,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


@app.command()
def stack() -> None:
    """Run each service and the gateway as its own process, with real Kafka and PostgreSQL."""
    from tanktop.stack import run_stack

    exit_on_sigterm()
    run_stack()


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant name (a-z 0-9 _ -); created on first use.")],
    role: Annotated[str, typer.Option(help="tenant, or admin to write the catalog.")] = "tenant",
    rate: Annotated[float, typer.Option(help="Sustained requests per second.")] = 200.0,
    burst: Annotated[int, typer.Option(help="Requests allowed at once.")] = 400,
) -> None:
    """Create an API key and print it (only the key, on stdout). It is shown this once."""
    try:
        key, _ = with_key_store(lambda pool: auth.create_key(pool, tenant, role, rate, burst))
    except Exception as error:  # a bad name or role: say so plainly, no traceback
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    print(key)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None) -> None:
    """List keys by prefix (the keys themselves are not stored)."""
    records = with_key_store(lambda pool: gateway_store.list_keys(pool, tenant))
    table = Table("prefix", "tenant", "role", "rate/s", "burst", "created", "revoked")
    for r in records:
        table.add_row(
            r.prefix,
            r.tenant,
            r.role,
            f"{r.rate_per_second:g}",
            str(r.burst),
            r.created_at.isoformat(timespec="seconds"),
            r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "",
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_or_prefix: Annotated[str, typer.Argument(help="The key, or its 8-character prefix.")],
) -> None:
    """Revoke a key; gateways stop accepting it within 5 seconds."""
    from gateway.keys import prefix_of

    prefix = prefix_of(key_or_prefix) or key_or_prefix
    if not with_key_store(lambda pool: gateway_store.revoke_key(pool, prefix)):
        err.print(f"[red]no key with prefix {prefix!r}[/red]")
        raise typer.Exit(1)
    err.print(f"revoked {prefix}")


@tenants_app.command("set-webhook")
def tenants_set_webhook(
    tenant: str, url: Annotated[str, typer.Argument(help="Default webhook URL for sports notifications.")]
) -> None:
    """Set the tenant's default webhook URL."""
    if not with_key_store(lambda pool: gateway_store.set_tenant_webhook(pool, tenant, url)):
        err.print(f"[red]no tenant {tenant!r}[/red]")
        raise typer.Exit(1)


@app.command()
def bench(
    seconds: Annotated[float, typer.Option(help="Length of each measured phase.")] = 5.0,
    rate: Annotated[int, typer.Option(help="Offered load for the fixed-rate latency phase.")] = 500,
    scenario: Annotated[
        list[str] | None,
        typer.Option(help="Run only this scenario (repeatable): profiles, events, catalog or bookmarks."),
    ] = None,
) -> None:
    """Measure the platform on this machine (real PostgreSQL and Kafka, processes on 127.0.0.1)."""
    from tanktop.bench import SCENARIOS, run_bench

    unknown = set(scenario or ()) - set(SCENARIOS)
    if unknown:
        err.print(f"[red]no scenario {', '.join(sorted(unknown))}: choose from {', '.join(SCENARIOS)}[/red]")
        raise typer.Exit(2)
    run_bench(seconds=seconds, rate=rate, scenarios=scenario or SCENARIOS)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
