from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from tests.api import ApiKey
from tests.bookmarks.feed import Feed


@pytest.fixture
def feed(producer: AIOKafkaProducer, api_key: ApiKey, platform_url: str) -> Feed:
    """Messages for the tenant of `api_key`, with the platform (and so the bookmarks consumers) running."""
    return Feed(producer, api_key.tenant)
