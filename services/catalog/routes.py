"""HTTP entrypoints of the catalog: translate requests to use cases and back.

Every read answers in the original API's wrapper (`{"movies": [...]}`), a single id included, as the
original `GET movie/{id}/` did. Writes need an admin key (the gateway checks) and answer what a GET would.
"""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from services.catalog import xmltv
from services.catalog.models import CATEGORY_KINDS, ITEM_TYPES
from services.catalog.service import Catalog
from services.catalog.settings import Settings
from shared import ids, jsonbody, timefmt
from shared.errors import BadRequest, NotFound, UnsupportedMediaType

router = APIRouter()

_PLURALS = {"movie": "movies", "programme": "programmes", "episode": "episodes"}
_XML_TYPES = frozenset({"application/xml", "text/xml", "application/xmltv+xml", "application/octet-stream"})


async def catalog_of(request: Request) -> Catalog:
    service: Catalog = request.app.state.catalog
    return service


async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Service = Annotated[Catalog, Depends(catalog_of)]
Config = Annotated[Settings, Depends(settings_of)]


async def json_object(request: Request) -> dict[str, Any]:
    return await jsonbody.read_object(request)


Body = Annotated[dict[str, Any], Depends(json_object)]


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def written(wrapper: str, shape: dict[str, Any], created: bool) -> Response:
    return reply({wrapper: [shape]}, 201 if created else 200)


def documents(wrapper: str, found: list[bytes], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Items kept as JSON text, wrapped without being parsed again."""
    body = b'{"' + wrapper.encode() + b'":[' + b",".join(found) + b"]}"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def query_ids(request: Request, settings: Settings, field: str = "id") -> list[str]:
    given = request.query_params.getlist("id")
    if len(given) > settings.max_ids:
        raise BadRequest(f"{len(given)} ids asked; at most {settings.max_ids} per request")
    return [ids.item_id(value, field) for value in given]


def paging(request: Request) -> tuple[int, int]:
    def number(name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise BadRequest(f"{name} must be an integer from {low} to {high}", extra={"field": name})
        return int(raw)

    return number("start", 0, 0, 10_000_000), number("count", 1000, 1, 1000)


def next_page(request: Request, found: int, start: int, count: int) -> dict[str, str]:
    if found < count:
        return {}
    following = request.url.include_query_params(start=start + count, count=count)
    return {"Link": f'<{following.path}?{following.query}>; rel="next"'}


# --- sources and ingest -----------------------------------------------------------------------


@router.get("/source")
async def list_sources(request: Request, service: Service, settings: Config) -> Response:
    wanted = query_ids(request, settings)
    return reply({"sources": await service.sources(wanted or None)})


@router.get("/source/{source_id}")
async def get_source(source_id: str, service: Service) -> Response:
    return reply({"sources": [await service.source(ids.item_id(source_id, "source id"))]})


@router.put("/source/{source_id}")
async def put_source(source_id: str, body: Body, service: Service) -> Response:
    return written("sources", *await service.put_source(ids.item_id(source_id, "source id"), body))


@router.delete("/source/{source_id}")
async def delete_source(source_id: str, service: Service) -> Response:
    await service.delete_source(ids.item_id(source_id, "source id"))
    return no_content()


@router.post("/ingest/{source_id}")
async def ingest(source_id: str, request: Request, service: Service, settings: Config) -> Response:
    """Set a source's whole current contents: {"movies": [...], "programmes": [...], "episodes": [...]}."""
    body = await jsonbody.read_object(request, max_bytes=settings.max_bulk_bytes)
    return reply(await service.ingest(ids.item_id(source_id, "source id"), body))


# --- movies, programmes, episodes and their instances -----------------------------------------


def _item_routes(item_type: str) -> None:
    plural = _PLURALS[item_type]
    field = f"{item_type} id"

    async def list_items(request: Request, service: Service, settings: Config) -> Response:
        wanted = query_ids(request, settings, field)
        if wanted:
            return documents(plural, await service.items(item_type, wanted))
        start, count = paging(request)
        found = await service.item_page(item_type, start, count)
        return documents(plural, found, headers=next_page(request, len(found), start, count))

    async def get_item(item_id: str, service: Service) -> Response:
        return documents(plural, [await service.item(item_type, ids.item_id(item_id, field))])

    async def put_item(item_id: str, body: Body, service: Service) -> Response:
        found, created = await service.put_item(item_type, ids.item_id(item_id, field), body)
        return documents(plural, [found], 201 if created else 200)

    async def delete_item(item_id: str, service: Service) -> Response:
        await service.delete_item(item_type, ids.item_id(item_id, field))
        return no_content()

    async def put_instance(item_id: str, source_id: str, body: Body, service: Service) -> Response:
        shape, created = await service.put_instance(
            item_type, ids.item_id(item_id, field), ids.item_id(source_id, "source id"), body
        )
        return reply({"instances": [shape]}, 201 if created else 200)

    async def delete_instance(item_id: str, source_id: str, service: Service) -> Response:
        await service.delete_instance(item_type, ids.item_id(item_id, field), ids.item_id(source_id, "source id"))
        return no_content()

    router.add_api_route(f"/{item_type}", list_items, methods=["GET"], name=f"list_{plural}")
    router.add_api_route(f"/{item_type}/{{item_id}}", get_item, methods=["GET"], name=f"get_{item_type}")
    router.add_api_route(f"/{item_type}/{{item_id}}", put_item, methods=["PUT"], name=f"put_{item_type}")
    router.add_api_route(f"/{item_type}/{{item_id}}", delete_item, methods=["DELETE"], name=f"delete_{item_type}")
    instance_path = f"/{item_type}/{{item_id}}/instance/{{source_id}}"
    router.add_api_route(instance_path, put_instance, methods=["PUT"], name=f"put_{item_type}_instance")
    router.add_api_route(instance_path, delete_instance, methods=["DELETE"], name=f"delete_{item_type}_instance")


for _type in ITEM_TYPES:
    _item_routes(_type)


# --- people and categories --------------------------------------------------------------------


@router.get("/person")
async def list_people(request: Request, service: Service, settings: Config) -> Response:
    wanted = query_ids(request, settings, "person id")
    if not wanted:
        raise BadRequest("name the people to fetch: person/?id=1&id=2", extra={"field": "id"})
    return reply({"people": await service.people(wanted)})


@router.get("/person/{person_id}")
async def get_person(person_id: str, service: Service) -> Response:
    found = await service.people([ids.item_id(person_id, "person id")])
    if not found:
        raise NotFound(f"there is no person {person_id!r}")
    return reply({"people": found})


@router.put("/person/{person_id}")
async def put_person(person_id: str, body: Body, service: Service) -> Response:
    return written("people", *await service.put_person(ids.item_id(person_id, "person id"), body))


@router.delete("/person/{person_id}")
async def delete_person(person_id: str, service: Service) -> Response:
    await service.delete_person(ids.item_id(person_id, "person id"))
    return no_content()


def _kind(kind: str) -> str:
    if kind not in CATEGORY_KINDS:
        raise NotFound(f"category kinds are movie and programme, not {kind[:40]!r}")
    return kind


@router.get("/category/{kind}")
async def list_categories(kind: str, service: Service) -> Response:
    return reply({"categories": await service.categories(_kind(kind))})


@router.get("/category/{kind}/{category_id}")
async def get_category(kind: str, category_id: str, service: Service) -> Response:
    found = await service.categories(_kind(kind), [ids.item_id(category_id, "category id")])
    if not found:
        raise NotFound(f"there is no {kind} category {category_id!r}")
    return reply({"categories": found})


@router.put("/category/{kind}/{category_id}")
async def put_category(kind: str, category_id: str, body: Body, service: Service) -> Response:
    shape, created = await service.put_category(_kind(kind), ids.item_id(category_id, "category id"), body)
    return written("categories", shape, created)


@router.delete("/category/{kind}/{category_id}")
async def delete_category(kind: str, category_id: str, service: Service) -> Response:
    await service.delete_category(_kind(kind), ids.item_id(category_id, "category id"))
    return no_content()


# --- channels and schedule --------------------------------------------------------------------


@router.get("/channel")
async def list_channels(request: Request, service: Service, settings: Config) -> Response:
    wanted = query_ids(request, settings, "channel id")
    return reply({"channels": await service.channels(wanted or None)})


@router.get("/channel/{channel_id}")
async def get_channel(channel_id: str, service: Service) -> Response:
    return reply({"channels": [await service.channel(ids.item_id(channel_id, "channel id"))]})


@router.put("/channel/{channel_id}")
async def put_channel(channel_id: str, body: Body, service: Service) -> Response:
    return written("channels", *await service.put_channel(ids.item_id(channel_id, "channel id"), body))


@router.delete("/channel/{channel_id}")
async def delete_channel(channel_id: str, service: Service) -> Response:
    await service.delete_channel(ids.item_id(channel_id, "channel id"))
    return no_content()


@router.get("/schedule/{channel_id}")
async def get_schedule(channel_id: str, request: Request, service: Service, settings: Config) -> Response:
    """Slots overlapping [from, to): from defaults to now, to to a day later."""

    def moment(name: str) -> Any:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            return timefmt.parse(raw)
        except ValueError as error:
            raise BadRequest(f"{name}: {error}", extra={"field": name}) from None

    start = moment("from") or timefmt.now()
    end = moment("to") or start + timedelta(days=1)
    if end <= start:
        raise BadRequest("to must be after from", extra={"field": "to"})
    if end - start > timedelta(days=settings.max_schedule_days):
        raise BadRequest(f"ask for at most {settings.max_schedule_days} days at a time", extra={"field": "to"})
    return reply(await service.schedule(ids.item_id(channel_id, "channel id"), start, end))


@router.put("/schedule/{channel_id}")
async def put_schedule(channel_id: str, body: Body, service: Service) -> Response:
    """Replace the slots that start in [from, to) with the given ones."""
    return reply(await service.put_schedule(ids.item_id(channel_id, "channel id"), body))


@router.post("/epg/xmltv")
async def import_xmltv(request: Request, service: Service, settings: Config) -> Response:
    content_type = request.headers.get("content-type")
    if content_type is not None and content_type.split(";", 1)[0].strip().lower() not in _XML_TYPES:
        raise UnsupportedMediaType("send the XMLTV document with Content-Type: application/xml")
    raw = await jsonbody.read_bytes(request, settings.max_bulk_bytes)
    if not raw.strip():
        raise BadRequest("the body is empty: send an XMLTV document (<tv>...</tv>)")
    # Parsing a large guide takes a while; a worker thread keeps this process answering meanwhile.
    guide = await asyncio.to_thread(xmltv.parse, io.BytesIO(raw))
    return reply(await service.import_xmltv(guide))


# --- sports -----------------------------------------------------------------------------------


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= 31:
        raise BadRequest("days must be an integer from 1 to 31", extra={"field": "days"})
    return int(raw)


@router.get("/sport")
async def list_sports(service: Service) -> Response:
    return reply({"sports": await service.sports()})


@router.get("/sport/{sport_id}")
async def sport_content(sport_id: str, request: Request, service: Service) -> Response:
    """Content tied to the sport (or any of its teams) available now or airing within `days` (default 7)."""
    return reply(await service.sport_content(ids.item_id(sport_id, "sport id"), None, _days(request)))


@router.put("/sport/{sport_id}")
async def put_sport(sport_id: str, body: Body, service: Service) -> Response:
    return written("sports", *await service.put_sport(ids.item_id(sport_id, "sport id"), body))


@router.delete("/sport/{sport_id}")
async def delete_sport(sport_id: str, service: Service) -> Response:
    await service.delete_sport(ids.item_id(sport_id, "sport id"))
    return no_content()


@router.get("/sport/{sport_id}/team")
async def list_teams(sport_id: str, service: Service) -> Response:
    return reply({"teams": await service.teams(ids.item_id(sport_id, "sport id"))})


@router.get("/sport/{sport_id}/team/{team_id}")
async def team_content(sport_id: str, team_id: str, request: Request, service: Service) -> Response:
    sport, team = ids.item_id(sport_id, "sport id"), ids.item_id(team_id, "team id")
    return reply(await service.sport_content(sport, team, _days(request)))


@router.put("/sport/{sport_id}/team/{team_id}")
async def put_team(sport_id: str, team_id: str, body: Body, service: Service) -> Response:
    sport, team = ids.item_id(sport_id, "sport id"), ids.item_id(team_id, "team id")
    return written("teams", *await service.put_team(sport, team, body))


@router.delete("/sport/{sport_id}/team/{team_id}")
async def delete_team(sport_id: str, team_id: str, service: Service) -> Response:
    await service.delete_team(ids.item_id(sport_id, "sport id"), ids.item_id(team_id, "team id"))
    return no_content()


async def _tie(
    service: Catalog, sport_id: str, team_id: str | None, item_type: str, item_id: str, *, tied: bool
) -> Response:
    if item_type not in ITEM_TYPES:
        raise NotFound(f"content tied to a sport is a movie, programme or episode, not {item_type[:40]!r}")
    sport = ids.item_id(sport_id, "sport id")
    team = ids.item_id(team_id, "team id") if team_id is not None else None
    await service.associate(sport, team, (item_type, ids.item_id(item_id, "item id")), tied=tied)
    return no_content()


@router.put("/sport/{sport_id}/team/{team_id}/{item_type}/{item_id}")
@router.post("/sport/{sport_id}/team/{team_id}/{item_type}/{item_id}", operation_id="tie_to_team_as_originally")
async def tie_to_team(sport_id: str, team_id: str, item_type: str, item_id: str, service: Service) -> Response:
    return await _tie(service, sport_id, team_id, item_type, item_id, tied=True)


@router.delete("/sport/{sport_id}/team/{team_id}/{item_type}/{item_id}")
async def untie_from_team(sport_id: str, team_id: str, item_type: str, item_id: str, service: Service) -> Response:
    return await _tie(service, sport_id, team_id, item_type, item_id, tied=False)


@router.put("/sport/{sport_id}/{item_type}/{item_id}")
@router.post("/sport/{sport_id}/{item_type}/{item_id}", operation_id="tie_to_sport_as_originally")
async def tie_to_sport(sport_id: str, item_type: str, item_id: str, service: Service) -> Response:
    return await _tie(service, sport_id, None, item_type, item_id, tied=True)


@router.delete("/sport/{sport_id}/{item_type}/{item_id}")
async def untie_from_sport(sport_id: str, item_type: str, item_id: str, service: Service) -> Response:
    return await _tie(service, sport_id, None, item_type, item_id, tied=False)


# --- collections ------------------------------------------------------------------------------


@router.get("/collection")
async def list_collections(request: Request, service: Service, settings: Config) -> Response:
    wanted = query_ids(request, settings, "collection id")
    if wanted:
        return reply({"collections": await service.collections(wanted, 0, len(wanted))})
    start, count = paging(request)
    found = await service.collections(None, start, count)
    return reply({"collections": found}, headers=next_page(request, len(found), start, count))


@router.post("/collection")
async def create_collection(body: Body, service: Service) -> Response:
    shape = await service.create_collection(body)
    return reply({"collections": [shape]}, 201, {"Location": f"/collection/{shape['id']}/"})


@router.get("/collection/{collection_id}")
async def get_collection(collection_id: str, service: Service) -> Response:
    return reply({"collections": [await service.collection(ids.item_id(collection_id, "collection id"))]})


@router.put("/collection/{collection_id}")
async def put_collection(collection_id: str, body: Body, service: Service) -> Response:
    return written("collections", *await service.put_collection(ids.item_id(collection_id, "collection id"), body))


@router.patch("/collection/{collection_id}")
async def add_to_collection(collection_id: str, body: Body, service: Service) -> Response:
    shape = await service.add_to_collection(ids.item_id(collection_id, "collection id"), body)
    return reply({"collections": [shape]})


@router.delete("/collection/{collection_id}")
async def delete_collection(collection_id: str, service: Service) -> Response:
    await service.delete_collection(ids.item_id(collection_id, "collection id"))
    return no_content()
