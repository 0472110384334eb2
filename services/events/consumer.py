"""Kafka handlers of the events service: inferred events from live TV, applied like any other."""

from __future__ import annotations

import structlog
from pydantic import ValidationError

from services.events import changes
from services.events.service import Events
from shared.bus import Handler, Message, PoisonMessage
from shared.contracts import InferredEvent
from shared.errors import ProblemError

log = structlog.get_logger(__name__)


def on_inferred(events: Events) -> Handler:
    async def handle(message: Message) -> None:
        try:
            inferred = InferredEvent.model_validate_json(message.value)
            if not inferred.tenant:
                raise PoisonMessage("an inferred event without a tenant")
            change = changes.set_event(
                changes.key(inferred.user_id, inferred.event, inferred.item_type, inferred.item_id),
                inferred.value,
                inferred.at,
            )
        except (ValidationError, ProblemError) as error:
            # The producer broke the contract; retrying cannot help.
            raise PoisonMessage(f"not a valid inferred event: {error}") from None
        if await events.apply_inferred(inferred.event_id, inferred.tenant, change, inferred.at):
            log.debug("event.inferred", tenant=inferred.tenant, name=change.key.event, item_type=change.key.item_type)

    return handle
