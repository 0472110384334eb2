"""Kafka handlers of the bookmarks service: parse the contract, hand it to the use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from services.bookmarks.service import Bookmarks
from services.bookmarks.settings import Settings
from shared.bus import Handler, Message, PoisonMessage
from shared.contracts import (
    CATALOG_ITEM_CHANGES,
    CATALOG_SCHEDULE_CHANGES,
    EVENT_CHANGES,
    CatalogItemChanged,
    EventChanged,
    ScheduleChanged,
)
from shared.runtime import Subscription

M = TypeVar("M", bound=BaseModel)


def subscriptions(bookmarks: Bookmarks, settings: Settings) -> list[Subscription]:
    group = settings.consumer_group_prefix
    catalog: dict[str, Callable[[Message], Awaitable[None]]] = {
        CATALOG_ITEM_CHANGES: _handler(CatalogItemChanged, bookmarks.apply_item),
        CATALOG_SCHEDULE_CHANGES: _handler(ScheduleChanged, bookmarks.apply_schedule),
    }

    async def on_catalog(message: Message) -> None:
        await catalog[message.topic](message)

    return [
        Subscription(f"{group}-events", (EVENT_CHANGES,), _handler(EventChanged, bookmarks.apply_event)),
        Subscription(f"{group}-catalog", tuple(catalog), on_catalog),
    ]


def _handler(model: type[M], use_case: Callable[[M], Awaitable[None]]) -> Handler:
    async def handle(message: Message) -> None:
        try:
            payload = model.model_validate_json(message.value)
        except ValidationError as error:
            # The producer broke the contract; retrying cannot help.
            raise PoisonMessage(f"not a valid {model.__name__}: {error}") from None
        await use_case(payload)

    return handle
