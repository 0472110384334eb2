"""One contract, two adapters: the in-process bus and real Kafka must behave alike."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

import pytest

from shared.bus import Bus, Message, PoisonMessage
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus

BusFactory = Callable[[list[str]], Bus]


@pytest.fixture(params=["memory", "kafka"])
def make_bus(request: pytest.FixtureRequest) -> BusFactory:
    if request.param == "memory":
        shared = MemoryBus(partitions=4)  # one in-process bus per test, like one process
        return lambda topics: shared
    bootstrap = request.getfixturevalue("kafka_bootstrap")
    return lambda topics: KafkaBus(bootstrap, topics=topics, partitions=4, client_id="contract-test")


@pytest.fixture
async def topic(make_bus: BusFactory) -> AsyncIterator[str]:
    yield f"test.contract.{uuid.uuid4().hex[:8]}"


async def eventually(condition: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def messages(topic: str, keys: int, per_key: int) -> list[Message]:
    return [Message(topic=topic, key=f"k{k}", value=f"{k}:{n}".encode()) for n in range(per_key) for k in range(keys)]


async def test_per_key_order_and_every_group_sees_everything(make_bus: BusFactory, topic: str) -> None:
    producer = make_bus([topic])
    await producer.start()
    got: dict[str, dict[str, list[int]]] = {"g1": defaultdict(list), "g2": defaultdict(list)}

    def collect(group: str) -> Callable[[Message], object]:
        async def handle(message: Message) -> None:
            key, n = message.value.decode().split(":")
            got[group][key].append(int(n))

        return handle

    consumer = make_bus([topic])
    if consumer is not producer:
        await consumer.start()
    consumer.subscribe(f"g1-{topic}", [topic], collect("g1"))  # type: ignore[arg-type]
    consumer.subscribe(f"g2-{topic}", [topic], collect("g2"))  # type: ignore[arg-type]
    await producer.publish(messages(topic, keys=5, per_key=40))
    await eventually(lambda: all(sum(map(len, g.values())) == 200 for g in got.values()))
    for group in got.values():
        assert group == {str(k): list(range(40)) for k in range(5)}
    await consumer.stop()
    if consumer is not producer:
        await producer.stop()


async def test_a_failing_handler_gets_the_message_again(make_bus: BusFactory, topic: str) -> None:
    bus = make_bus([topic])
    await bus.start()
    attempts: list[bytes] = []
    done: list[bytes] = []

    async def flaky(message: Message) -> None:
        attempts.append(message.value)
        if attempts.count(message.value) < 3:
            raise ConnectionError("database restarting")
        done.append(message.value)

    bus.subscribe(f"flaky-{topic}", [topic], flaky)
    await bus.publish([Message(topic=topic, key="k", value=b"a"), Message(topic=topic, key="k", value=b"b")])
    await eventually(lambda: done == [b"a", b"b"])
    assert attempts == [b"a", b"a", b"a", b"b", b"b", b"b"]
    await bus.stop()


async def test_poison_is_skipped_and_the_rest_flows(make_bus: BusFactory, topic: str) -> None:
    bus = make_bus([topic])
    await bus.start()
    done: list[bytes] = []

    async def strict(message: Message) -> None:
        if message.value == b"poison":
            raise PoisonMessage("not a valid payload")
        done.append(message.value)

    bus.subscribe(f"strict-{topic}", [topic], strict)
    await bus.publish([Message(topic=topic, key="k", value=v) for v in (b"1", b"poison", b"2")])
    await eventually(lambda: done == [b"1", b"2"])
    await bus.stop()


async def test_a_group_resumes_after_its_last_committed_message(make_bus: BusFactory, topic: str) -> None:
    bus = make_bus([topic])
    await bus.start()
    first: list[bytes] = []
    group = f"resume-{topic}"

    async def record_first(message: Message) -> None:
        first.append(message.value)

    bus.subscribe(group, [topic], record_first)
    await bus.publish([Message(topic=topic, key="k", value=b"1"), Message(topic=topic, key="k", value=b"2")])
    await eventually(lambda: first == [b"1", b"2"])
    await bus.unsubscribe(group)

    await bus.publish([Message(topic=topic, key="k", value=b"3")])
    second: list[bytes] = []

    async def record_second(message: Message) -> None:
        second.append(message.value)

    bus.subscribe(group, [topic], record_second)
    await eventually(lambda: second == [b"3"])
    await asyncio.sleep(0.5)
    assert second == [b"3"], "a committed message was delivered again"
    await bus.stop()
