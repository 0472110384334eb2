"""The `tanktop keys` commands as a user runs them, against the real database."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid

import asyncpg
import httpx

from tests.api import ApiKey, assert_problem


async def tanktop(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    # Off the event loop: the session's in-process platform runs on it and must keep answering meanwhile.
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tanktop.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TANKTOP_DATABASE_URL": database_url},
    )


async def test_keys_create_list_revoke(postgres_url: str, client: httpx.AsyncClient) -> None:
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    created = await tanktop("keys", "create", "--tenant", tenant, "--role", "admin", database_url=postgres_url)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"tk_[a-z0-9]{40}", key), "stdout is the key and nothing else"
    api = ApiKey(key=key, tenant=tenant)
    assert (await client.put(api.path("user/1/"), json={})).status_code == 201

    listed = await tanktop("keys", "list", "--tenant", tenant, database_url=postgres_url)
    assert listed.returncode == 0
    assert key[3:11] in listed.stdout and "admin" in listed.stdout
    assert key not in listed.stdout, "the key itself is never shown again"

    revoked = await tanktop("keys", "revoke", key[3:11], database_url=postgres_url)
    assert revoked.returncode == 0
    assert "revoked" in revoked.stderr
    assert (await tanktop("keys", "revoke", "zzzzzzzz", database_url=postgres_url)).returncode == 1


async def test_bad_tenant_or_role_is_refused_plainly(postgres_url: str) -> None:
    bad_tenant = await tanktop("keys", "create", "--tenant", "Not Valid", database_url=postgres_url)
    assert bad_tenant.returncode == 2 and "tenant" in bad_tenant.stderr and "Traceback" not in bad_tenant.stderr
    bad_role = await tanktop("keys", "create", "--tenant", "ok", "--role", "root", database_url=postgres_url)
    assert bad_role.returncode == 2 and "role" in bad_role.stderr


async def test_database_holds_no_usable_key(
    postgres_url: str, db_pool: asyncpg.Pool, client: httpx.AsyncClient
) -> None:
    tenant = f"dump-{uuid.uuid4().hex[:8]}"
    key = (await tanktop("keys", "create", "--tenant", tenant, database_url=postgres_url)).stdout.strip()
    row = await db_pool.fetchrow("select * from gateway.api_key where tenant = $1", tenant)
    assert row is not None
    dumped = " ".join(str(value) for value in row.values())
    assert key not in dumped and key[11:] not in dumped
    # What is stored (prefix + hash) does not work as a key.
    stored_as_key = ApiKey(key=f"tk_{row['prefix']}{row['key_hash'].hex()[:32]}", tenant=tenant)
    assert_problem(await client.get(stored_as_key.path("user/1/")), 401)
