from __future__ import annotations

import asyncio

from shared.background import BackgroundLoop


async def test_a_failing_pass_neither_ends_the_loop_nor_skips_recovery() -> None:
    passes: list[str] = []
    recovered: list[int] = []

    async def one_pass() -> None:
        passes.append("pass")
        if len(passes) <= 2:
            raise ConnectionError("database restarting")

    async def recover() -> None:
        recovered.append(len(passes))

    loop = BackgroundLoop("test", one_pass, lambda: asyncio.sleep(0.01), recover=recover, retry_seconds=0.01)
    loop.start()
    for _ in range(200):
        if len(passes) >= 5:
            break
        await asyncio.sleep(0.01)
    await loop.stop()
    assert len(passes) >= 5, "the loop went on after its failures"
    assert recovered == [1, 2], "recovery ran once after each failing pass, and only then"
    count = len(passes)
    await asyncio.sleep(0.05)
    assert len(passes) == count, "stop() ended the loop"
