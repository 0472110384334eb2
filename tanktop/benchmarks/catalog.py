"""Catalog: an XMLTV week for 20 channels imported end to end through the gateway (target under 30 s),
and `GET movie/?id=` with 50 ids through the gateway and direct (target p99 <= 30 ms at a fixed rate)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import orjson

from tanktop import demo
from tanktop.bench import BenchContext, Request, Result

MOVIES = 2000
IDS_PER_GET = 50


async def run(ctx: BenchContext) -> list[Result]:
    catalog = demo.generate(5, movies=MOVIES, programmes=200, sources=1, channels=20)
    admin = {"content-type": "application/json"}
    await ctx.send(Request("PUT", ctx.api("source/1/", ctx.admin_key), orjson.dumps(catalog.sources[0][1]), admin))
    # The movies go in as one source's contents: one request, one transaction.
    contents = {"movies": [{"id": int(i), **body, "instance": {"price_rent": 349}} for i, body in catalog.movies]}
    began = time.perf_counter()
    status, _ = await ctx.send(Request("POST", ctx.api("ingest/1/", ctx.admin_key), orjson.dumps(contents), admin))
    seconds = time.perf_counter() - began
    ingest = Result.of(f"ingest of {MOVIES} movies with metadata", 1, int(status != 200), seconds, [seconds * 1000])

    results = [ingest, *await _xmltv(ctx, catalog)]
    movie_ids = [movie_id for movie_id, _ in catalog.movies]
    rng = random.Random(1)

    def query(_: int) -> str:
        return "&".join(f"id={movie_id}" for movie_id in rng.sample(movie_ids, IDS_PER_GET))

    def via_gateway(i: int) -> Request:
        return Request("GET", ctx.api(f"movie/?{query(i)}"))

    def direct(i: int) -> Request:
        url, headers = ctx.direct("catalog", f"movie/?{query(i)}")
        return Request("GET", url, headers=headers)

    results += [
        await ctx.throughput(f"GET movie/?id= x{IDS_PER_GET} via gateway", via_gateway),
        await ctx.throughput(f"GET movie/?id= x{IDS_PER_GET} direct", direct),
        await ctx.fixed_rate(f"GET movie/?id= x{IDS_PER_GET} via gateway at 100/s", via_gateway, 100),
        await ctx.fixed_rate(
            f"GET movie/?id= x{IDS_PER_GET} via gateway at {ctx.rate // 2}/s", via_gateway, ctx.rate // 2
        ),
    ]
    return results


async def _xmltv(ctx: BenchContext, catalog: demo.DemoCatalog) -> list[Result]:
    """The first import creates what it cannot match; the second finds everything and changes nothing."""
    document = demo.guide(catalog, days=7, start=datetime(2031, 1, 5, 6, tzinfo=UTC))
    programmes = document.count(b"<programme ")
    results = []
    for attempt in ("first", "repeated"):
        began = time.perf_counter()
        status, body = await ctx.send(
            Request("POST", ctx.api("epg/xmltv", ctx.admin_key), document, {"content-type": "application/xml"})
        )
        seconds = time.perf_counter() - began
        summary = orjson.loads(body) if status == 200 else {}
        note = (
            f"{len(document) / 1e6:.1f} MB, {summary.get('slots')} slots, {summary.get('matched')} matched, "
            f"created {summary.get('created')}; target < 30 s"
            if status == 200
            else body[:200].decode(errors="replace")
        )
        results.append(
            Result.of(
                f"XMLTV import, 20 ch x 7 d, {programmes} programmes ({attempt})",
                1,
                int(status != 200),
                seconds,
                [seconds * 1000],
                note,
            )
        )
    return results
