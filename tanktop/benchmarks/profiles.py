"""Profile GET and PUT through the gateway and direct to the service, and latency at a fixed rate."""

from __future__ import annotations

import orjson

from tanktop.bench import BenchContext, Request, Result

USERS = 1000


async def run(ctx: BenchContext) -> list[Result]:
    body = orjson.dumps({"name": "Bench User", "prefs": {"genres": ["drama", "comedy"], "hd": True}})
    json_header = {"content-type": "application/json"}
    for n in range(USERS):
        await ctx.send(Request("PUT", ctx.api(f"user/b{n}/"), body, json_header))

    def gateway_get(i: int) -> Request:
        return Request("GET", ctx.api(f"user/b{i % USERS}/"))

    def direct_get(i: int) -> Request:
        url, headers = ctx.direct("profiles", f"user/b{i % USERS}/")
        return Request("GET", url, headers=headers)

    def gateway_put(i: int) -> Request:
        return Request("PUT", ctx.api(f"user/b{i % USERS}/"), body, json_header)

    def direct_put(i: int) -> Request:
        url, headers = ctx.direct("profiles", f"user/b{i % USERS}/")
        return Request("PUT", url, body, {**headers, **json_header})

    results = [
        await ctx.throughput("profile GET via gateway", gateway_get),
        await ctx.throughput("profile GET direct", direct_get),
        await ctx.throughput("profile PUT via gateway", gateway_put),
        await ctx.throughput("profile PUT direct", direct_put),
        await ctx.fixed_rate(f"profile GET via gateway at {ctx.rate}/s", gateway_get),
        await ctx.fixed_rate(f"profile PUT via gateway at {ctx.rate}/s", gateway_put),
    ]
    for method in ("GET", "PUT"):
        via, direct = (
            next(r for r in results if r.name == f"profile {method} {how}") for how in ("via gateway", "direct")
        )
        via.note += f"; gateway/direct = {via.rps / direct.rps:.2f}"
    return results
