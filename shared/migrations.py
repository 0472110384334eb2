"""Versioned SQL migrations per service schema, applied under an advisory lock so replicas can race."""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_FILE_NAME = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")

# Tables every service schema has: the transactional outbox and the consumer inbox.
_KIT = """
create table if not exists {schema}.outbox (
    id bigserial primary key,
    topic text not null,
    key text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    sent_at timestamptz
);
create index if not exists outbox_unsent on {schema}.outbox (id) where sent_at is null;
create table if not exists {schema}.inbox (
    consumer text not null,
    message_id text not null,
    received_at timestamptz not null default now(),
    primary key (consumer, message_id)
);
"""


async def _has_kit(conn: asyncpg.Connection, schema: str) -> bool:
    """Looked up, not re-run: `create index if not exists` still waits for a lock that every open outbox
    insert holds, so a replica restarting on a busy database would stall all writes behind it. The kit
    runs as one implicit transaction, so its last two objects being there means all of it is."""
    found = await conn.fetchval(
        "select to_regclass($1) is not null and to_regclass($2) is not null",
        f"{schema}.outbox_unsent",
        f"{schema}.inbox",
    )
    return bool(found)


def _migration_files(package: str) -> list[tuple[int, str, Traversable]]:
    found = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry))
    return sorted(found, key=lambda item: item[0])


async def migrate(pool: asyncpg.Pool, schema: str, package: str) -> list[str]:
    """Apply `package`/migrations/NNN_name.sql not yet applied to `schema`; return what was applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("select pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
        try:
            await conn.execute(f"create schema if not exists {schema}")
            await conn.execute(
                f"create table if not exists {schema}.schema_migrations "
                "(version int primary key, name text not null, applied_at timestamptz not null default now())"
            )
            if not await _has_kit(conn, schema):
                await conn.execute(_KIT.format(schema=schema))
            done = {row["version"] for row in await conn.fetch(f"select version from {schema}.schema_migrations")}
            for version, name, entry in _migration_files(package):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f"set local search_path to {schema}")
                    await conn.execute(entry.read_text())
                    await conn.execute(
                        f"insert into {schema}.schema_migrations (version, name) values ($1, $2)",
                        version,
                        name,
                    )
                applied.append(name)
                log.info("migration.applied", schema=schema, migration=name)
        finally:
            await conn.execute("select pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")
    return applied
