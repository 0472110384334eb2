"""Profile use cases. Each opens its own transaction and publishes its change through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from services.profiles import store
from services.profiles.merge_patch import apply as merge_patch
from services.profiles.settings import Settings
from shared import ids, jsonbody, outbox, timefmt
from shared.contracts import PROFILE_CHANGES, SPORT_PREFERENCE_CHANGES, ProfileChanged, SportPreferenceChanged
from shared.errors import BadRequest, NotFound, PayloadTooLarge, PreconditionFailed
from shared.preconditions import if_match_holds, if_none_match_holds


@dataclass(frozen=True)
class Profile:
    body: dict[str, Any]
    version: int


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None


class Profiles:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings

    async def get(self, tenant: str, user_id: str) -> Profile:
        row = await store.get_active(self._pool, tenant, user_id)
        if row is None:
            raise NotFound(f"there is no active user {user_id!r}")
        return Profile(row.body, row.version)

    async def put(
        self, tenant: str, user_id: str, body: dict[str, Any], conditions: Preconditions
    ) -> tuple[Profile, bool]:
        """Create or replace; True when the user was created (or reactivated)."""
        body = self._checked(user_id, body)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await store.lock_profile(conn, tenant, user_id)
            current = row.version if row and row.active else None
            self._check_preconditions(conditions, current)
            if row is None:
                version = await store.insert_profile(conn, tenant, user_id, body)
            else:
                version = await store.write_profile(conn, tenant, user_id, body, active=True)
            created = row is None or not row.active
            await self._publish(conn, tenant, user_id, "created" if created else "updated", version)
        return Profile(body, version), created

    async def create(self, tenant: str, body: dict[str, Any]) -> Profile:
        if "id" in body:
            raise BadRequest("POST user/ chooses the id; to choose your own, PUT user/{userid}/")
        profile, _ = await self.put(tenant, uuid.uuid4().hex, body, Preconditions(if_none_match="*"))
        return profile

    async def patch(self, tenant: str, user_id: str, patch: dict[str, Any], conditions: Preconditions) -> Profile:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await store.lock_profile(conn, tenant, user_id)
            if row is None or not row.active:
                raise NotFound(f"there is no active user {user_id!r} to update; create it with PUT")
            self._check_preconditions(conditions, row.version)
            if "id" in patch and patch["id"] is None:
                raise BadRequest("'id' cannot be removed from a profile")
            body = self._checked(user_id, merge_patch(row.body, patch))
            version = await store.write_profile(conn, tenant, user_id, body, active=True)
            await self._publish(conn, tenant, user_id, "updated", version)
        return Profile(body, version)

    async def deactivate(self, tenant: str, user_id: str, conditions: Preconditions) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await store.lock_profile(conn, tenant, user_id)
            if row is None:
                raise NotFound(f"there is no user {user_id!r}")
            self._check_preconditions(conditions, row.version if row.active else None)
            if not row.active:
                return  # already deactivated: the same outcome, nothing to publish
            version = await store.deactivate(conn, tenant, user_id)
            await self._publish(conn, tenant, user_id, "deactivated", version)

    async def add_sport(self, tenant: str, user_id: str, sport_id: str, team_id: str | None) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await store.add_sport_preference(conn, tenant, user_id, sport_id, team_id or ""):
                await self._publish_sport(conn, tenant, user_id, sport_id, team_id, "added")

    async def remove_sport(self, tenant: str, user_id: str, sport_id: str, team_id: str | None) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await store.remove_sport_preference(conn, tenant, user_id, sport_id, team_id or ""):
                await self._publish_sport(conn, tenant, user_id, sport_id, team_id, "removed")

    async def sports(self, tenant: str, user_id: str) -> dict[str, list[str]]:
        """Sport id -> followed team ids, in the order the user chose them."""
        grouped: dict[str, list[str]] = {}
        for sport_id, team_id in await store.sport_preferences(self._pool, tenant, user_id):
            teams = grouped.setdefault(sport_id, [])
            if team_id:
                teams.append(team_id)
        return grouped

    def _checked(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The body as stored: `id` equal to the path's, no reserved keys, within size and depth."""
        if "id" in body and ids.from_json(body["id"]) != user_id:
            raise BadRequest(f"the body's id {body['id']!r} differs from the user id in the path {user_id!r}")
        reserved = sorted(key for key in body if key.startswith("_"))
        if reserved:
            raise BadRequest(f"top-level key {reserved[0]!r} is reserved: keys starting with '_' cannot be stored")
        stored = {"id": ids.to_json(user_id), **{key: value for key, value in body.items() if key != "id"}}
        if jsonbody.depth(stored) > self._settings.max_profile_depth:
            raise BadRequest(f"the profile is nested more than {self._settings.max_profile_depth} levels deep")
        size = len(orjson.dumps(stored))
        if size > self._settings.max_profile_bytes:
            raise PayloadTooLarge(f"the profile would be {size} bytes; at most {self._settings.max_profile_bytes}")
        return stored

    @staticmethod
    def _check_preconditions(conditions: Preconditions, current_version: int | None) -> None:
        if not if_match_holds(conditions.if_match, current_version):
            raise PreconditionFailed("If-Match does not match the profile's current ETag: GET it and retry")
        if not if_none_match_holds(conditions.if_none_match, current_version):
            raise PreconditionFailed("the user exists and If-None-Match: * asked to create only")

    @staticmethod
    async def _publish(conn: asyncpg.Connection, tenant: str, user_id: str, change: str, version: int) -> None:
        event = ProfileChanged(
            event_id=f"profile:{tenant}:{user_id}:{version}",
            tenant=tenant,
            user_id=user_id,
            change=change,
            version=version,
            at=timefmt.now(),
        )
        await outbox.enqueue(conn, store.SCHEMA, PROFILE_CHANGES, f"{tenant}:{user_id}", event)

    @staticmethod
    async def _publish_sport(
        conn: asyncpg.Connection, tenant: str, user_id: str, sport_id: str, team_id: str | None, change: str
    ) -> None:
        event = SportPreferenceChanged(
            event_id=uuid.uuid4().hex,
            tenant=tenant,
            user_id=user_id,
            sport_id=sport_id,
            team_id=team_id,
            change=change,
            at=timefmt.now(),
        )
        await outbox.enqueue(conn, store.SCHEMA, SPORT_PREFERENCE_CHANGES, f"{tenant}:{user_id}", event)
