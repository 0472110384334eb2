from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from tests.api import ApiKey
from tests.bookmarks.feed import Feed


@pytest.fixture(scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
def feed(producer: AIOKafkaProducer, api_key: ApiKey, platform_url: str) -> Feed:
    """Messages for the tenant of `api_key`, with the platform (and so the bookmarks consumers) running."""
    return Feed(producer, api_key.tenant)
