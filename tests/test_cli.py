"""The `tanktop keys` commands as a user runs them, against the real database."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil

from tanktop.kafka import free_port
from tanktop.stack import wait_listening
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


def _start_run(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """`tanktop run` as a user starts it: embedded PostgreSQL (in `data_dir`), in-process bus."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANKTOP_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tanktop.cli", "run"],
        env={**env, "TANKTOP_DATA_DIR": str(data_dir), "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, process)
    return process


def _postmaster(data_dir: Path) -> psutil.Process:
    return psutil.Process(int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0]))


async def test_the_embedded_database_stops_with_its_last_user_even_after_a_crash(tmp_path: Path) -> None:
    crashed = await asyncio.to_thread(_start_run, tmp_path, free_port())
    database = _postmaster(tmp_path)
    crashed.kill()  # no exit hooks: it never says it has gone
    crashed.wait()
    assert database.is_running(), "a crash leaves the server up for whoever runs next"

    second = await asyncio.to_thread(_start_run, tmp_path, free_port())
    assert _postmaster(tmp_path).pid == database.pid, "the next run joins the same server"
    second.send_signal(signal.SIGTERM)  # as kill, systemd or docker stop end it
    assert await asyncio.to_thread(second.wait, 30) != 0
    # The last user is gone (the crashed one no longer counts), so the server stops.
    await asyncio.to_thread(database.wait, 30)
    assert not database.is_running()
