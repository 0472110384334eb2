"""Bookmarks and live TV (issue 5): how long from a channel `end` accepted by the gateway until the inferred
`seen` is visible through GET event/..., under a background load of 500 events/s; and GET bookmark/{userid}/.
Targets: p99 <= 1 s from the end's 204 to the seen; GET bookmark p99 <= 30 ms.

The whole pipeline runs as in production: events -> Kafka -> bookmarks lays the viewing over the schedule
-> inferred event -> Kafka -> events applies it; every hop is a separate process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import orjson

from tanktop.bench import BenchContext, Request, Result, settle

BACKGROUND_RATE = 500  # events a second, single POSTs through the gateway
PROBES_PER_SECOND = 5
# A probe looks for its seen every 20 ms at first, then every tenth of the time waited so far: the
# latency is known to 10%, and a slow pipeline is not slowed further by a flood of polls.
POLL_SECONDS = 0.02
POLL_SHARE = 0.1
PROBE_TIMEOUT = 10.0
USERS = 2000
MOVIES = 50
EPISODES = 20
SLOT = timedelta(minutes=30)
JSON = {"content-type": "application/json"}


async def run(ctx: BenchContext) -> list[Result]:
    run_id = uuid.uuid4().hex[:6]
    movies, episodes, channel, slots = await _catalog(ctx, run_id)
    items = [("movie", m, 100) for m in movies] + [("episode", e, 30) for e in episodes]

    # Every user has a few bookmarks before anything is measured.
    seeded = [
        {"user_id": f"{run_id}-{u}", "event": "progress", "item_type": t, "item_id": i, "value": runtime // 3}
        for u in range(USERS)
        for t, i, runtime in random.Random(u).sample(items, 5)
    ]
    for start in range(0, len(seeded), 1000):
        await _ok(ctx, Request("POST", ctx.api("events/"), orjson.dumps(seeded[start : start + 1000]), JSON))
    # Earlier scenarios may have left the bookmarks consumer a backlog; measure from an empty one.
    drained = await settle(ctx, "bookmarks-events")

    def background(i: int) -> Request:
        user = f"{run_id}-{random.randrange(USERS)}"
        item_type, item_id, runtime = random.choice(items)
        choice = random.random()
        if choice < 0.5:
            path = f"event/{user}/progress/{item_type}/{item_id}/{random.randrange(runtime)}/"
        elif choice < 0.6:
            path = f"event/{user}/seen/{item_type}/{item_id}/"
        elif choice < 0.8:
            path = f"event/{user}/watchlist/{item_type}/{item_id}/"
        else:
            path = f"event/{user}/rated/{item_type}/{item_id}/{random.randrange(1, 6)}/"
        return Request("POST", ctx.api(path))

    def bookmark_get(i: int) -> Request:
        return Request("GET", ctx.api(f"bookmark/{run_id}-{i % USERS}/"))

    def bookmark_direct(i: int) -> Request:
        url, headers = ctx.direct("bookmarks", f"bookmark/{run_id}-{i % USERS}/")
        return Request("GET", url, headers=headers)

    seconds = max(ctx.seconds * 4, 20.0)
    loaded = dataclasses.replace(ctx, seconds=seconds)
    load = asyncio.create_task(
        loaded.fixed_rate(f"background event POST at {BACKGROUND_RATE}/s", background, BACKGROUND_RATE)
    )
    reads = asyncio.create_task(loaded.fixed_rate("bookmark GET via gateway at 100/s, under load", bookmark_get, 100))
    live = await _probes(ctx, run_id, channel, slots, seconds)
    results = [live, await load, await reads]
    live.note += f"; bookmarks backlog before: drained in {drained:.1f} s"
    results += [
        await ctx.throughput("bookmark GET via gateway", bookmark_get),
        await ctx.throughput("bookmark GET direct", bookmark_direct),
        await ctx.fixed_rate(f"bookmark GET via gateway at {ctx.rate}/s", bookmark_get),
    ]
    return results


async def _catalog(ctx: BenchContext, run_id: str) -> tuple[list[str], list[str], str, list[tuple[datetime, str]]]:
    """Movies, a programme's episodes, and a channel showing those episodes every half hour of yesterday."""
    movies = [f"{run_id}-m{n}" for n in range(MOVIES)]
    for movie in movies:
        await _put(ctx, f"movie/{movie}/", {"title": f"Film {movie}", "runtime": 100})
    programme = f"{run_id}-p"
    await _put(ctx, f"programme/{programme}/", {"title": "Bench Tales"})
    episodes = [f"{run_id}-e{n}" for n in range(EPISODES)]
    for n, episode in enumerate(episodes):
        body = {"programme_id": programme, "season": 1 + n // 10, "episode": 1 + n % 10, "runtime": 30}
        await _put(ctx, f"episode/{episode}/", body)
    channel = f"{run_id}-c"
    await _put(ctx, f"channel/{channel}/", {"name": "Bench One"})
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    slots = [(day + n * SLOT, episodes[n % EPISODES]) for n in range(48)]
    body = {
        "slots": [
            {"start": start.isoformat(), "stop": (start + SLOT).isoformat(), "item_type": "episode", "item_id": e}
            for start, e in slots
        ]
    }
    await _put(ctx, f"schedule/{channel}/", body)
    return movies, episodes, channel, slots


async def _probes(
    ctx: BenchContext, run_id: str, channel: str, slots: list[tuple[datetime, str]], seconds: float
) -> Result:
    """Each probe is a new user watching one whole slot: start, then end, then GET until the seen shows."""
    latencies: list[float] = []
    errors = 0

    async def probe(n: int) -> None:
        nonlocal errors
        user = f"{run_id}-live{n}"
        start, episode = slots[n % len(slots)]
        try:
            await _ok(ctx, Request("POST", ctx.api(f"event/{user}/start/channel/{channel}/{int(start.timestamp())}/")))
            stop = int((start + SLOT).timestamp())
            await _ok(ctx, Request("POST", ctx.api(f"event/{user}/end/channel/{channel}/{stop}/")))
            accepted = time.perf_counter()
            seen = Request("GET", ctx.api(f"event/{user}/seen/episode/?id={episode}"))
            while (waited := time.perf_counter() - accepted) < PROBE_TIMEOUT:
                status, body = await ctx.send(seen)
                if status == 200 and orjson.loads(body)["seen"]:
                    latencies.append((time.perf_counter() - accepted) * 1000)
                    return
                await asyncio.sleep(max(POLL_SECONDS, POLL_SHARE * waited))
            errors += 1
        except (aiohttp.ClientError, RuntimeError):
            errors += 1

    began = time.perf_counter()
    running = []
    for n in range(int(seconds * PROBES_PER_SECOND)):
        delay = began + n / PROBES_PER_SECOND - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        running.append(asyncio.create_task(probe(n)))
    await asyncio.gather(*running)
    return Result.of(
        f"live end -> inferred seen in GET event, {BACKGROUND_RATE} events/s",
        len(running),
        errors,
        time.perf_counter() - began,
        latencies,
        f"{PROBES_PER_SECOND} viewings/s, polled every {POLL_SECONDS * 1000:.0f} ms or {POLL_SHARE:.0%} of the wait",
    )


async def _put(ctx: BenchContext, path: str, body: dict[str, object]) -> None:
    await _ok(ctx, Request("PUT", ctx.api(path, key=ctx.admin_key), orjson.dumps(body), JSON))


async def _ok(ctx: BenchContext, request: Request) -> None:
    status, body = await ctx.send(request)
    if status >= 300:
        raise RuntimeError(f"{request.method} {request.url.split('/', 6)[-1]}: {status} {body[:200]!r}")
