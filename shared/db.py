"""The Postgres pool: JSON codecs, and telling a down database from a bad query."""

from __future__ import annotations

import asyncio

import asyncpg
import orjson
import structlog

log = structlog.get_logger(__name__)

# Errors that mean "the database is unreachable or restarting", answered as 503.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset query (UNLISTEN, RESET ALL, CLOSE ALL, unlock) on release.

    asyncpg still rolls back a transaction left open. Beyond that the platform leaves nothing on a
    pooled session: no SET outside a transaction, no session lock or LISTEN still held when the
    connection goes back. So the reset query would be one more round trip on every request, for nothing.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10, attempts: int = 30) -> asyncpg.Pool:
    """Wait for the database at start-up (it may still be booting), then give up loudly."""
    for attempt in range(1, attempts + 1):
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                reset=_keep_session,
                command_timeout=30,
                max_inactive_connection_lifetime=120,
            )
            assert pool is not None
            return pool
        except UNAVAILABLE_ERRORS as error:
            if attempt == attempts:
                raise
            log.warning("db.unavailable", attempt=attempt, error=type(error).__name__)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise AssertionError("unreachable")


async def ping(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(2):
            return bool(await pool.fetchval("select 1"))
    except (*UNAVAILABLE_ERRORS, asyncpg.PostgresError):
        return False
