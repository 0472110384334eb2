"""Stored rows rendered in the original API's JSON shapes: ids via ids.to_json, times ISO UTC."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.catalog.models import EXTERNAL_FIELDS, PRICE_FIELDS
from shared import ids, timefmt

_EXTERNAL_FIELD_OF = {system: name for name, system in EXTERNAL_FIELDS.items()}


def _id(value: str | None) -> int | str | None:
    return None if value is None else ids.to_json(value)


def refs(names: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """People or categories as items list them ({"id", "name"}), made once per answer and shared."""
    return {ref: {"id": ids.to_json(ref), "name": name} for ref, name in names.items()}


def _refs(found: list[str], known: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [known.get(ref) or {"id": ids.to_json(ref), "name": None} for ref in found]


def item(
    item_type: str,
    item_id: str,
    content: dict[str, Any],
    people: Mapping[str, dict[str, Any]],
    categories: Mapping[str, dict[str, Any]],
    instances: list[dict[str, Any]] | None = None,
    series: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The public shape; `instances` None leaves them out (as in published item changes).

    `people` and `categories` map ids to their listed form (see `refs`).
    """
    shape: dict[str, Any] = {"id": ids.to_json(item_id)}
    if item_type == "episode":
        shape["programme_id"] = _id(content.get("programme_id"))
        shape["season"] = content.get("season")
        shape["episode"] = content.get("episode")
    shape["title"] = content.get("title")
    if item_type != "episode":
        shape["year"] = content.get("year")
    shape["runtime"] = content.get("runtime")
    shape["first_aired"] = content.get("first_aired")
    directors = _refs(content.get("directors", []), people)
    if item_type == "movie":
        shape["director_id"] = directors[0]["id"] if directors else None
        shape["director_name"] = directors[0]["name"] if directors else None
    shape["directors"] = directors
    shape["actors"] = _refs(content.get("actors", []), people)
    shape["categories"] = _refs(content.get("categories", []), categories)
    external = content.get("external_ids", {})
    for system, value in external.items():
        if system in _EXTERNAL_FIELD_OF:
            shape[_EXTERNAL_FIELD_OF[system]] = ids.to_json(value)
    shape["external_ids"] = {system: ids.to_json(value) for system, value in external.items()}
    shape.update(content.get("extra", {}))
    if series is not None:
        shape["series"] = series
    if instances is not None:
        shape["instances"] = instances
    return shape


def instance(row: Mapping[str, Any]) -> dict[str, Any]:
    """`expires` may be a datetime or Unix seconds."""
    expires: datetime | float | None = row["expires"]
    if isinstance(expires, int | float):
        expires = datetime.fromtimestamp(expires, UTC)
    shape: dict[str, Any] = {
        "source_id": ids.to_json(row["source_id"]),
        "source_name": row["source_name"],
        "country": row["country"],
        "url": row["url"],
        "expires": timefmt.format(expires) if expires else None,
    }
    for name in PRICE_FIELDS:
        shape[name] = row[name]
    shape.update(row["extra"] or {})
    return shape


def source(source_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.to_json(source_id),
        "payment_model": content["payment_model"],
        "country": content["country"],
        "display_name": content["display_name"],
        "name": content["name"],
        **content.get("extra", {}),
    }


def channel(channel_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.to_json(channel_id),
        "name": content["name"],
        "number": content.get("number"),
        "country": content.get("country"),
        "hd": content.get("hd", False),
        "source_id": _id(content.get("source_id")),
        "xmltv_id": content.get("xmltv_id"),
        **content.get("extra", {}),
    }


def sport(sport_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"id": ids.to_json(sport_id), "name": content["name"], **content.get("extra", {})}


def team(sport_id: str, team_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.to_json(team_id),
        "sport_id": ids.to_json(sport_id),
        "name": content["name"],
        **content.get("extra", {}),
    }


def person(person_id: str, name: str) -> dict[str, Any]:
    return {"id": ids.to_json(person_id), "name": name}


def category(kind: str, category_id: str, name: str) -> dict[str, Any]:
    return {"id": ids.to_json(category_id), "kind": kind, "name": name}


def collection(collection_id: str, content: dict[str, Any], items: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": ids.to_json(collection_id),
        "title": content["title"],
        **content.get("extra", {}),
        "items": [{"item_type": item_type, "item_id": ids.to_json(item_id)} for item_type, item_id in items],
    }


def slot(row: Mapping[str, Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "start": timefmt.format(row["start"]),
        "stop": timefmt.format(row["stop"]),
        "item_type": row["item_type"],
        "item_id": ids.to_json(row["item_id"]),
        "hd": row["hd"],
        "title": row["title"],
    }
    if row["item_type"] == "episode":
        shape["programme_id"] = _id(row["programme_id"])
        shape["programme_title"] = row["programme_title"]
        shape["season"] = row["season"]
        shape["episode"] = row["episode"]
    return shape
