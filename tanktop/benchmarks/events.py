"""Events: single POSTs and GETs with 50 ids through the gateway and direct, batches of 1000, and how long
an acknowledged event takes to be on Kafka. Targets (issue 3): >= 1,000 single POSTs/s with p99 <= 50 ms,
>= 10,000 events/s through the batch endpoint, p99 from the 204 to Kafka <= 1 s."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer

from shared.contracts import EVENT_CHANGES
from tanktop import loadgen
from tanktop.bench import BenchContext, Request, RequestFactory, Result, settle

TARGET_RATE = 1000  # single POSTs a second
USERS = 1000
ITEMS = 500
BATCH = 1000
JSON = {"content-type": "application/json"}


async def run(ctx: BenchContext) -> list[Result]:
    run_id = uuid.uuid4().hex[:6]

    def post_path(i: int) -> str:
        return f"event/{run_id}-{i % USERS}/rated/movie/{i % ITEMS}/{i % 10 - 4}/"

    def gateway_post(i: int) -> Request:
        return Request("POST", ctx.api(post_path(i)))

    def direct_post(i: int) -> Request:
        url, headers = ctx.direct("events", post_path(i))
        return Request("POST", url, headers=headers)

    ids = "&".join(f"id={n}" for n in range(0, 100, 2))  # 50 ids, about half of them rated

    def get_path(i: int) -> str:
        return f"event/{run_id}-{i % USERS}/rated/movie/?{ids}"

    def gateway_get(i: int) -> Request:
        return Request("GET", ctx.api(get_path(i)))

    def direct_get(i: int) -> Request:
        url, headers = ctx.direct("events", get_path(i))
        return Request("GET", url, headers=headers)

    def batch(i: int) -> Request:
        body = [
            {"user_id": f"{run_id}-b{(i * BATCH + n) % USERS}", "event": "rated", "item_type": "movie",
             "item_id": (i * 7 + n) % 5000, "value": n % 10 - 4}
            for n in range(BATCH)
        ]  # fmt: skip
        return Request("POST", ctx.api("events/"), orjson.dumps(body), JSON)

    results = [
        await ctx.throughput("event POST via gateway", gateway_post),
        await ctx.throughput("event POST direct", direct_post),
        await steady(ctx, f"event POST via gateway at {TARGET_RATE}/s", gateway_post, TARGET_RATE),
        await steady(ctx, f"event POST direct at {TARGET_RATE}/s", direct_post, TARGET_RATE),
        await ctx.throughput("event GET 50 ids via gateway", gateway_get),
        await ctx.throughput("event GET 50 ids direct", direct_get),
    ]
    for rate in sorted({ctx.rate, TARGET_RATE}):
        results.append(await to_kafka(ctx, f"{run_id}-{rate}", rate))
    # Last: the outbox it fills takes the relay a while to drain, which would delay the phases after it.
    async with KafkaWatch(ctx.kafka_bootstrap, f"{run_id}-b") as watch:
        # Distinct batches (none sent twice, so each of its events is a change that reaches Kafka) for
        # up to 80 batches/s; the body file stays at about 30 MB.
        batches = await ctx.throughput(
            f"events batch POST of {BATCH} via gateway", batch, concurrency=4, distinct=int(80 * ctx.seconds)
        )
        answered = time.time()
        drained = await watch.until(lambda: watch.count >= (batches.requests - batches.errors) * BATCH, within=120)
    batches.note += (
        f"; {batches.rps * BATCH:.0f} events/s; all on Kafka {drained - answered:.1f} s after the last answer"
    )
    results.append(batches)
    for name in ("event POST", "event GET 50 ids"):
        via = next(r for r in results if r.name == f"{name} via gateway")
        direct = next(r for r in results if r.name == f"{name} direct")
        via.note += f"; gateway/direct = {via.rps / direct.rps:.2f}"
    return results


async def steady(ctx: BenchContext, name: str, make: RequestFactory, rate: int) -> Result:
    """A fixed rate from a pipeline at rest: the bookmarks consumer has caught up with the phases before."""
    waited = await settle(ctx, "bookmarks-events")
    result = await ctx.fixed_rate(name, make, rate)
    result.note += f"; bookmarks consumer caught up {waited:.1f} s before"
    return result


class KafkaWatch:
    """Reads the event topic from its end, noting when changes for users whose id starts with `prefix` arrive."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self._consumer = AIOKafkaConsumer(EVENT_CHANGES, bootstrap_servers=bootstrap, auto_offset_reset="latest")
        self._prefix = prefix
        self._reader: asyncio.Task[None] | None = None
        self._arrival = asyncio.Event()
        # User id -> when its first change arrived, in Unix time like the load generator's answers.
        self.first_seen: dict[str, float] = {}
        self.count = 0

    async def __aenter__(self) -> KafkaWatch:
        await self._consumer.start()
        # Without a group the consumer takes every partition once it knows the topic.
        async with asyncio.timeout(10):
            while not self._consumer.assignment():
                await self._consumer.getmany(timeout_ms=100)
        await self._consumer.seek_to_end()
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)  # resolved now, before anything is sent
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            for records in (await self._consumer.getmany(timeout_ms=100)).values():
                now = time.time()
                for record in records:
                    user = str(orjson.loads(record.value or b"{}").get("user_id", ""))
                    if user.startswith(self._prefix):
                        self.count += 1
                        self.first_seen.setdefault(user, now)
            self._arrival.set()

    async def until(self, done: Callable[[], bool], within: float) -> float:
        """Wait until `done()` holds after an arrival, at most `within` seconds; return the time then."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not done():
                    self._arrival.clear()
                    await self._arrival.wait()
        return time.time()


async def to_kafka(ctx: BenchContext, run_id: str, rate: int) -> Result:
    """POSTs at a fixed rate, each for a user of its own; the time from each 204 to its change on Kafka."""
    total = int(rate * ctx.seconds)
    users = [f"{run_id}-k{i}" for i in range(total)]
    async with KafkaWatch(ctx.kafka_bootstrap, f"{run_id}-k") as watch:
        answers = await loadgen.attack_each(
            (Request("POST", ctx.api(f"event/{user}/seen/movie/{i % ITEMS}/")) for i, user in enumerate(users)),
            seconds=ctx.seconds,
            rate=rate,
        )
        # The user is the path segment after "event".
        acked = {a.url.split("/event/", 1)[1].split("/", 1)[0]: a.answered_at for a in answers if a.status == 204}
        errors = len(answers) - len(acked)
        seconds = max(a.answered_at for a in answers) - min(a.answered_at for a in answers) if answers else 0.0
        await watch.until(lambda: acked.keys() <= watch.first_seen.keys(), within=10)
        arrived = dict(watch.first_seen)
    missing = len(acked.keys() - arrived.keys())
    # A change read before its 204 came back counts as 0 ms.
    latencies = [max(0.0, (arrived[user] - at) * 1000) for user, at in acked.items() if user in arrived]
    return Result.of(
        f"event POST at {rate}/s: 204 -> on Kafka",
        len(answers),
        errors + missing,
        seconds,
        latencies,
        f"latency from the 204 to a consumer reading it; {missing} not seen within 10 s",
    )
