"""HTTP entrypoints of the events service: translate requests to use cases and back.

These endpoints take the bare Request and read its path and query themselves: FastAPI's per-request
parameter solving was 40% of a POST's CPU time here (measured in-process: 660 µs, 400 µs without it),
and POSTs are the traffic that must be cheap. The parameters are described for OpenAPI by hand instead.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from services.events import changes
from services.events.service import Events
from services.events.settings import Settings
from shared import ids, jsonbody, paging, timefmt
from shared.errors import PUBLIC_PATH_PREFIX, BadRequest, PayloadTooLarge, ProblemError
from shared.observability import request_id_var
from shared.tenancy import tenant_from_request

router = APIRouter()
_NO_CONTENT = 204
_KEY_PATH = "/event/{user_id}/{event}/{item_type}/{item_id}"


def _parameters(path: tuple[str, ...], query: dict[str, str] | None = None) -> dict[str, Any]:
    described = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path]
    described += [
        {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in (query or {}).items()
    ]
    return {"parameters": described}


_KEY_PARAMETERS = ("user_id", "event", "item_type", "item_id")
_VALUE_QUERY = {"value": "the value, when it is not the last path segment"}


def _key(request: Request) -> changes.Key:
    path = request.path_params
    return changes.key(path["user_id"], path["event"], path["item_type"], path["item_id"])


def _events(request: Request) -> Events:
    service: Events = request.app.state.events
    return service


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    _KEY_PATH, status_code=_NO_CONTENT, summary="Set an event", openapi_extra=_parameters(_KEY_PARAMETERS, _VALUE_QUERY)
)
@router.post(
    _KEY_PATH + "/{value}",
    status_code=_NO_CONTENT,
    summary="Set an event with a value",
    openapi_extra=_parameters((*_KEY_PARAMETERS, "value")),
)
async def set_event(request: Request) -> Response:
    tenant = await tenant_from_request(request)
    key = _key(request)
    value = request.path_params.get("value")
    value_query = request.query_params.get("value")
    if value is not None and value_query is not None and value != value_query:
        raise BadRequest("the value is given twice, in the path and as ?value=, differently: give it once")
    change = changes.set_event(key, value if value is not None else value_query, timefmt.now())
    await _events(request).apply(tenant, change)
    return Response(status_code=_NO_CONTENT)


@router.delete(
    _KEY_PATH,
    status_code=_NO_CONTENT,
    summary="Remove an event (204 even if absent)",
    openapi_extra=_parameters(_KEY_PARAMETERS),
)
async def delete_event(request: Request) -> Response:
    tenant = await tenant_from_request(request)
    await _events(request).apply(tenant, changes.delete_event(_key(request)))
    return Response(status_code=_NO_CONTENT)


@router.get(
    "/event/{user_id}/{event}/{item_type}",
    summary="The items with an event: those of the ids asked, or all newest first",
    openapi_extra=_parameters(
        ("user_id", "event", "item_type"),
        {
            "id": "an item id, repeatable, at most 1000",
            "start": "without id: how many to skip (default 0)",
            "count": "without id: how many to return, 1 to 1000 (default 1000)",
        },
    ),
)
async def get_events(request: Request) -> Response:
    tenant = await tenant_from_request(request)
    path, query = request.path_params, request.query_params
    key = changes.listing(path["user_id"], path["event"], path["item_type"])
    service, settings = _events(request), _settings(request)
    event = path["event"]
    item_ids = query.getlist("id")
    if item_ids:
        if len(item_ids) > settings.max_ids:
            raise BadRequest(f"{len(item_ids)} ids asked; at most {settings.max_ids} at once: split the request")
        wanted = list(dict.fromkeys(ids.item_id(item_id, "id") for item_id in item_ids))
        return _json({event: await service.values(tenant, key, wanted)})
    asked = paging.window(query.get("start"), query.get("count"))
    page = await service.newest(tenant, key, asked.start, asked.count)
    return _json({event: dict(page.items)}, asked.next_link() if page.more else None)


@router.post(
    "/events",
    summary="Many sets and deletes in one transaction",
    description="A JSON array of up to 1000 objects {user_id, event, item_type, item_id, value?, action?: "
    "'set' | 'delete'}. The answer lists, per item, {status: 204} or the problem a single call would get; "
    "the valid items are applied even when others are not.",
)
async def post_batch(request: Request) -> Response:
    tenant = await tenant_from_request(request)
    settings = _settings(request)
    jsonbody.require_json_content_type(request)
    body = jsonbody.parse(await jsonbody.read_bytes(request, settings.max_batch_bytes))
    if not isinstance(body, list):
        raise BadRequest(f"the body must be a JSON array of events, not {jsonbody.type_name(body)}")
    if len(body) > settings.max_batch:
        raise PayloadTooLarge(f"{len(body)} events in one batch; at most {settings.max_batch}: split it")
    now = timefmt.now()
    items: list[changes.Change | ProblemError] = []
    for item in body:
        try:
            items.append(changes.from_json(item, now))
        except ProblemError as problem:
            items.append(problem)
    await _events(request).apply_batch(tenant, items)
    request_id = request_id_var.get()
    results = [
        item.body(instance=f"{PUBLIC_PATH_PREFIX}/events/#/{index}", request_id=request_id)
        if isinstance(item, ProblemError)
        else {"status": _NO_CONTENT}
        for index, item in enumerate(items)
    ]
    return _json({"results": results})


def _json(body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
