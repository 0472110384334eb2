"""All SQL of the profiles service. Functions take a connection; the use case owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

SCHEMA = "profiles"


@dataclass(frozen=True)
class ProfileRow:
    body: dict[str, Any]
    version: int
    active: bool


async def lock_profile(conn: asyncpg.Connection, tenant: str, user_id: str) -> ProfileRow | None:
    row = await conn.fetchrow(
        "select body, version, active from profiles.profile where tenant = $1 and user_id = $2 for update",
        tenant,
        user_id,
    )
    return ProfileRow(row["body"], row["version"], row["active"]) if row else None


async def get_active(conn: asyncpg.Connection | asyncpg.Pool, tenant: str, user_id: str) -> ProfileRow | None:
    row = await conn.fetchrow(
        "select body, version from profiles.profile where tenant = $1 and user_id = $2 and active",
        tenant,
        user_id,
    )
    return ProfileRow(row["body"], row["version"], True) if row else None


async def insert_profile(conn: asyncpg.Connection, tenant: str, user_id: str, body: dict[str, Any]) -> int:
    await conn.execute(
        "insert into profiles.profile (tenant, user_id, body, version) values ($1, $2, $3, 1)",
        tenant,
        user_id,
        body,
    )
    return 1


async def write_profile(
    conn: asyncpg.Connection, tenant: str, user_id: str, body: dict[str, Any], *, active: bool
) -> int:
    version: int = await conn.fetchval(
        "update profiles.profile set body = $3, active = $4, version = version + 1, updated_at = now() "
        "where tenant = $1 and user_id = $2 returning version",
        tenant,
        user_id,
        body,
        active,
    )
    return version


async def deactivate(conn: asyncpg.Connection, tenant: str, user_id: str) -> int:
    version: int = await conn.fetchval(
        "update profiles.profile set active = false, version = version + 1, updated_at = now() "
        "where tenant = $1 and user_id = $2 returning version",
        tenant,
        user_id,
    )
    return version


async def add_sport_preference(
    conn: asyncpg.Connection, tenant: str, user_id: str, sport_id: str, team_id: str
) -> bool:
    added = await conn.fetchval(
        "insert into profiles.sport_preference (tenant, user_id, sport_id, team_id) values ($1, $2, $3, $4) "
        "on conflict do nothing returning true",
        tenant,
        user_id,
        sport_id,
        team_id,
    )
    return bool(added)


async def remove_sport_preference(
    conn: asyncpg.Connection, tenant: str, user_id: str, sport_id: str, team_id: str
) -> bool:
    removed = await conn.fetchval(
        "delete from profiles.sport_preference "
        "where tenant = $1 and user_id = $2 and sport_id = $3 and team_id = $4 returning true",
        tenant,
        user_id,
        sport_id,
        team_id,
    )
    return bool(removed)


async def sport_preferences(pool: asyncpg.Pool, tenant: str, user_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "select sport_id, team_id from profiles.sport_preference where tenant = $1 and user_id = $2 "
        "order by created_at, sport_id, team_id",
        tenant,
        user_id,
    )
    return [(row["sport_id"], row["team_id"]) for row in rows]
