"""Request bodies read into validated records: 400 for a malformed id, 422 for a bad value."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared import ids, timefmt
from shared.errors import BadRequest, Unprocessable

ITEM_TYPES = ("movie", "programme", "episode")
CATEGORY_KINDS = ("movie", "programme")
PAYMENT_MODELS = ("F", "P", "S", "U")
PRICE_FIELDS = ("price_rent", "price_rent_hd", "price_buy", "price_buy_hd")
# Original top-level external id fields, and the system each is kept under in `external_ids`.
EXTERNAL_FIELDS = {"imdb_id": "imdb", "rt_id": "rt", "tvdb_id": "tvdb", "freebase_id": "freebase"}
# Keys computed on output; a body that carries them back (a GET put back) has them ignored.
DERIVED_ITEM_FIELDS = frozenset({"series", "sports", "director_id", "director_name"})
DERIVED_INSTANCE_FIELDS = frozenset({"source_name", "country", "id", "item_type", "item_id"})
_SYSTEM = re.compile(r"[a-z0-9_.\-]{1,32}")
_COUNTRY = re.compile(r"[A-Z]{2,3}")
MAX_PRICE = 2_000_000_000
# Unix times above this are milliseconds, the unit the original API used for `expires`.
_MILLISECONDS_ABOVE = 100_000_000_000


@dataclass(frozen=True)
class InstanceInput:
    source_id: str
    price_rent: int | None = None
    price_rent_hd: int | None = None
    price_buy: int | None = None
    price_buy_hd: int | None = None
    expires: datetime | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def prices(self) -> tuple[int | None, int | None, int | None, int | None]:
        return self.price_rent, self.price_rent_hd, self.price_buy, self.price_buy_hd


@dataclass
class ItemInput:
    type: str
    id: str
    content: dict[str, Any]  # canonical stored form
    people: dict[str, str | None]  # person id -> name given with it (None: must exist)
    categories: dict[str, str | None]
    instances: list[InstanceInput] | None = None  # None: leave the item's instances as they are

    @property
    def key(self) -> tuple[str, str]:
        return self.type, self.id

    @property
    def category_kind(self) -> str:
        return "movie" if self.type == "movie" else "programme"


@dataclass(frozen=True)
class SlotInput:
    start: datetime
    stop: datetime
    item_type: str
    item_id: str
    hd: bool


@dataclass(frozen=True)
class ScheduleInput:
    window_start: datetime
    window_end: datetime
    slots: list[SlotInput]


@dataclass
class IngestEntry:
    type: str
    id: str
    item: ItemInput | None  # metadata to write, when the entry carries more than id and instance
    instance: InstanceInput


# --- values -----------------------------------------------------------------------------------


def object_of(value: Any, field_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unprocessable(f"{field_name} must be a JSON object")
    return value


def list_of(value: Any, field_name: str, limit: int = 10_000) -> list[Any]:
    if not isinstance(value, list):
        raise Unprocessable(f"{field_name} must be a JSON array")
    if len(value) > limit:
        raise Unprocessable(f"{field_name} has {len(value)} entries; at most {limit} are accepted")
    return value


def an_id(value: Any, field_name: str) -> str:
    text = ids.from_json(value)
    if text is None:
        raise BadRequest(f"{field_name} must be a string or an integer id", extra={"field": field_name})
    return ids.item_id(text, field_name)


def optional_int(value: Any, field_name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(f"{field_name} must be an integer or null")
    if not low <= value <= high:
        raise Unprocessable(f"{field_name} {value} is out of range: use {low} to {high}")
    return value


def optional_text(value: Any, field_name: str, max_length: int = 500) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unprocessable(f"{field_name} must be a string or null")
    text = value.strip()
    if len(text) > max_length:
        raise Unprocessable(f"{field_name} is {len(text)} characters; at most {max_length}")
    return text or None


def required_text(value: Any, field_name: str, max_length: int = 500) -> str:
    text = optional_text(value, field_name, max_length)
    if text is None:
        raise Unprocessable(f"{field_name} is required: a non-empty string")
    return text


def a_bool(value: Any, field_name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Unprocessable(f"{field_name} must be true or false")
    return value


def a_time(value: Any, field_name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unprocessable(f"{field_name} must be Unix seconds or an ISO 8601 time with an offset")
    try:
        return timefmt.parse(value)
    except ValueError as error:
        raise Unprocessable(f"{field_name}: {error}") from None


def optional_time(value: Any, field_name: str) -> datetime | None:
    return None if value is None else a_time(value, field_name)


def expiry(value: Any) -> datetime | None:
    numeric = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if numeric and value > _MILLISECONDS_ABOVE:
        value = value / 1000
    return optional_time(value, "expires")


def first_aired(value: Any) -> str | None:
    """A date (YYYY-MM-DD); a full time is cut to its UTC date."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d").date().isoformat()
        except ValueError:
            raise Unprocessable(f"first_aired {value!r} is not a real date") from None
    return a_time(value, "first_aired").date().isoformat()


def price(value: Any, field_name: str) -> int | None:
    amount = optional_int(value, field_name, -1, MAX_PRICE)
    return amount


def extra_fields(body: dict[str, Any], known: frozenset[str] | set[str]) -> dict[str, Any]:
    extra = {key: value for key, value in body.items() if key not in known}
    reserved = sorted(key for key in extra if key.startswith("_"))
    if reserved:
        raise Unprocessable(f"key {reserved[0]!r} is reserved: keys starting with '_' cannot be stored")
    return extra


def check_body_id(body: dict[str, Any], path_id: str, what: str) -> None:
    if "id" in body and ids.from_json(body["id"]) != path_id:
        raise BadRequest(f"the body's id {body['id']!r} differs from the {what} id in the path {path_id!r}")


# --- items ------------------------------------------------------------------------------------

_ITEM_KNOWN = frozenset(
    {
        "id",
        "title",
        "year",
        "runtime",
        "first_aired",
        "directors",
        "actors",
        "categories",
        "external_ids",
        "instances",
        "programme_id",
        "season",
        "episode",
        *EXTERNAL_FIELDS,
        *DERIVED_ITEM_FIELDS,
    }
)


def _people(value: Any, field_name: str, into: dict[str, str | None]) -> list[str]:
    found: list[str] = []
    for position, entry in enumerate(list_of(value, field_name, 500)):
        name = None
        if isinstance(entry, dict):
            person_id = an_id(entry.get("id"), f"{field_name}[{position}].id")
            name = optional_text(entry.get("name"), f"{field_name}[{position}].name", 300)
        else:
            person_id = an_id(entry, f"{field_name}[{position}]")
        if name is not None:
            if into.get(person_id) not in (None, name):
                raise Unprocessable(f"person {person_id!r} is named both {into[person_id]!r} and {name!r}")
            into[person_id] = name
        else:
            into.setdefault(person_id, None)
        if person_id not in found:
            found.append(person_id)
    return found


def _external_ids(body: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    given = body.get("external_ids")
    if given is not None:
        for system, value in object_of(given, "external_ids").items():
            if not _SYSTEM.fullmatch(system):
                raise Unprocessable(f"external_ids key {system[:40]!r} is not a system name (a-z 0-9 _ . -)")
            if value is None:
                continue
            found[system] = _external_value(value, f"external_ids.{system}")
    for field_name, system in EXTERNAL_FIELDS.items():
        if body.get(field_name) is not None:
            value = _external_value(body[field_name], field_name)
            if found.get(system, value) != value:
                raise Unprocessable(f"{field_name} {value!r} differs from external_ids.{system} {found[system]!r}")
            found[system] = value
    return found


def _external_value(value: Any, field_name: str) -> str:
    text = ids.from_json(value)
    if text is None or not 1 <= len(text.strip()) <= 128:
        raise Unprocessable(f"{field_name} must be a string or integer of 1 to 128 characters")
    return text.strip()


def item(item_type: str, item_id: str, body: dict[str, Any]) -> ItemInput:
    check_body_id(body, item_id, item_type)
    people: dict[str, str | None] = {}
    categories: dict[str, str | None] = {}
    directors_value = body.get("directors")
    if directors_value is None and body.get("director_id") is not None:
        directors_value = [{"id": body["director_id"], "name": body.get("director_name")}]
    content: dict[str, Any] = {
        "title": optional_text(body.get("title"), "title"),
        "year": optional_int(body.get("year"), "year", 1800, 2300),
        "runtime": optional_int(body.get("runtime"), "runtime", 0, 100_000),
        "first_aired": first_aired(body.get("first_aired")),
        "directors": _people(directors_value, "directors", people) if directors_value is not None else [],
        "actors": _people(body["actors"], "actors", people) if body.get("actors") is not None else [],
        "categories": _people(body["categories"], "categories", categories)
        if body.get("categories") is not None
        else [],
        "external_ids": _external_ids(body),
        "extra": extra_fields(body, _ITEM_KNOWN),
    }
    if item_type in ("movie", "programme") and content["title"] is None:
        raise Unprocessable(f"a {item_type} needs a title")
    if item_type == "episode":
        if body.get("programme_id") is None:
            raise Unprocessable("an episode needs programme_id: the programme it belongs to")
        content["programme_id"] = an_id(body["programme_id"], "programme_id")
        content["season"] = optional_int(body.get("season"), "season", 0, 100_000)
        content["episode"] = optional_int(body.get("episode"), "episode", 0, 1_000_000)
    else:
        for name in ("programme_id", "season", "episode"):
            if body.get(name) is not None:
                raise Unprocessable(f"{name} belongs to episodes; a {item_type} has none")
    instances = None
    if body.get("instances") is not None:
        instances = instance_list(body["instances"], "instances")
    return ItemInput(item_type, item_id, content, people, categories, instances)


def instance_list(value: Any, field_name: str) -> list[InstanceInput]:
    found: dict[str, InstanceInput] = {}
    for position, entry in enumerate(list_of(value, field_name, 1000)):
        entry = object_of(entry, f"{field_name}[{position}]")
        source_id = an_id(entry.get("source_id"), f"{field_name}[{position}].source_id")
        if source_id in found:
            raise Unprocessable(f"{field_name} lists source {source_id!r} twice; an item has one instance per source")
        found[source_id] = instance(source_id, entry)
    return list(found.values())


_INSTANCE_KNOWN = frozenset({"source_id", "expires", "url", *PRICE_FIELDS, *DERIVED_INSTANCE_FIELDS})


def instance(source_id: str, body: dict[str, Any]) -> InstanceInput:
    if body.get("source_id") is not None and ids.from_json(body["source_id"]) != source_id:
        raise BadRequest(f"the body's source_id {body['source_id']!r} differs from the source in the path")
    return InstanceInput(
        source_id=source_id,
        price_rent=price(body.get("price_rent"), "price_rent"),
        price_rent_hd=price(body.get("price_rent_hd"), "price_rent_hd"),
        price_buy=price(body.get("price_buy"), "price_buy"),
        price_buy_hd=price(body.get("price_buy_hd"), "price_buy_hd"),
        expires=expiry(body.get("expires")),
        url=optional_text(body.get("url"), "url", 2048),
        extra=extra_fields(body, _INSTANCE_KNOWN),
    )


def ingest(source_id: str, body: dict[str, Any]) -> list[IngestEntry]:
    unknown = sorted(set(body) - {"movies", "programmes", "episodes"})
    if unknown:
        raise Unprocessable(f"unknown key {unknown[0]!r}: an ingest body has movies, programmes and episodes")
    entries: list[IngestEntry] = []
    seen: set[tuple[str, str]] = set()
    # Programmes first, so episodes in the same body find theirs.
    for plural, item_type in (("programmes", "programme"), ("movies", "movie"), ("episodes", "episode")):
        for position, entry in enumerate(list_of(body.get(plural, []), plural, 200_000)):
            where = f"{plural}[{position}]"
            entry = object_of(entry, where)
            item_id = an_id(entry.get("id"), f"{where}.id")
            if (item_type, item_id) in seen:
                raise Unprocessable(f"{item_type} {item_id!r} appears twice in the body")
            seen.add((item_type, item_id))
            if "instances" in entry:
                raise Unprocessable(f"{where} has 'instances': in an ingest each item takes one 'instance' object")
            instance_body = object_of(entry.get("instance") or {}, f"{where}.instance")
            metadata = {key: value for key, value in entry.items() if key != "instance"}
            parsed = item(item_type, item_id, metadata) if set(metadata) - {"id"} else None
            entries.append(IngestEntry(item_type, item_id, parsed, instance(source_id, instance_body)))
    return entries


# --- other entities ---------------------------------------------------------------------------


def source(source_id: str, body: dict[str, Any]) -> dict[str, Any]:
    check_body_id(body, source_id, "source")
    name = optional_text(body.get("name"), "name", 200)
    display_name = optional_text(body.get("display_name"), "display_name", 200)
    if name is None and display_name is None:
        raise Unprocessable("a source needs a name or a display_name")
    payment_model = body.get("payment_model", "U")
    if payment_model not in PAYMENT_MODELS:
        raise Unprocessable(
            f"payment_model {str(payment_model)[:10]!r} is not one of F (free), P (pay as you go), "
            "S (subscription), U (unknown)"
        )
    return {
        "payment_model": payment_model,
        "country": country(body.get("country")),
        "display_name": display_name or name,
        "name": name or display_name,
        "extra": extra_fields(body, {"id", "payment_model", "country", "display_name", "name"}),
    }


def country(value: Any) -> str | None:
    text = optional_text(value, "country", 3)
    if text is None:
        return None
    if not _COUNTRY.fullmatch(text.upper()):
        raise Unprocessable(f"country {text!r} is not an ISO 3166 code such as GB or US")
    return text.upper()


def channel(channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
    check_body_id(body, channel_id, "channel")
    source_id = body.get("source_id")
    xmltv_id = optional_text(body.get("xmltv_id"), "xmltv_id", 200)
    return {
        "name": required_text(body.get("name"), "name", 200),
        "number": optional_int(body.get("number"), "number", 0, 1_000_000),
        "country": country(body.get("country")),
        "hd": a_bool(body.get("hd"), "hd"),
        "source_id": an_id(source_id, "source_id") if source_id is not None else None,
        "xmltv_id": xmltv_id,
        "extra": extra_fields(body, {"id", "name", "number", "country", "hd", "source_id", "xmltv_id"}),
    }


def named(entity: str, entity_id: str, body: dict[str, Any], extra: bool = True) -> dict[str, Any]:
    """Sports, teams, people, categories: a name and, for some, any other fields."""
    check_body_id(body, entity_id, entity)
    content: dict[str, Any] = {"name": required_text(body.get("name"), "name", 300)}
    if extra:
        content["extra"] = extra_fields(body, {"id", "name", "sport_id"})
    return content


def item_refs(value: Any, field_name: str) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    for position, entry in enumerate(list_of(value, field_name, 10_000)):
        entry = object_of(entry, f"{field_name}[{position}]")
        item_type = entry.get("item_type")
        if item_type not in ITEM_TYPES:
            raise Unprocessable(f"{field_name}[{position}].item_type must be movie, programme or episode")
        refs.append((item_type, an_id(entry.get("item_id", entry.get("id")), f"{field_name}[{position}].item_id")))
    return refs


def collection(collection_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    check_body_id(body, collection_id, "collection")
    content = {
        "title": required_text(body.get("title"), "title"),
        "extra": extra_fields(body, {"id", "title", "items"}),
    }
    return content, item_refs(body.get("items", []), "items")


def schedule(body: dict[str, Any]) -> ScheduleInput:
    """A window and the slots that start in it; a slot without `stop` ends where the next begins."""
    raw = list_of(body.get("slots", []), "slots", 5000)
    extra = sorted(set(body) - {"from", "to", "slots", "channel_id"})
    if extra:
        raise Unprocessable(f"unknown key {extra[0]!r}: a schedule body has from, to and slots")
    parsed: list[tuple[datetime, datetime | None, str, str, bool]] = []
    for position, entry in enumerate(raw):
        where = f"slots[{position}]"
        entry = object_of(entry, where)
        item_type = entry.get("item_type")
        if item_type not in ITEM_TYPES:
            raise Unprocessable(f"{where}.item_type must be movie, programme or episode")
        parsed.append(
            (
                a_time(entry.get("start"), f"{where}.start"),
                optional_time(entry.get("stop", entry.get("end")), f"{where}.stop"),
                item_type,
                an_id(entry.get("item_id"), f"{where}.item_id"),
                a_bool(entry.get("hd"), f"{where}.hd"),
            )
        )
    parsed.sort(key=lambda slot: slot[0])
    window_start = optional_time(body.get("from"), "from") or (parsed[0][0] if parsed else None)
    window_end = optional_time(body.get("to"), "to")
    if window_end is None and parsed:
        window_end = max(slot[1] or slot[0] for slot in parsed)
    if window_start is None or window_end is None:
        raise Unprocessable("give the window (from and to) that the slots replace, or at least one slot")
    if window_end <= window_start:
        raise Unprocessable("to must be after from")
    slots: list[SlotInput] = []
    for position, (start, stop, item_type, item_id, hd) in enumerate(parsed):
        following = parsed[position + 1][0] if position + 1 < len(parsed) else None
        if following == start:
            raise Unprocessable(f"two slots start at {timefmt.format(start)}")
        end = stop or following or window_end
        if not window_start <= start < window_end:
            raise Unprocessable(f"the slot at {timefmt.format(start)} starts outside the window from..to")
        if end <= start:
            raise Unprocessable(f"the slot at {timefmt.format(start)} stops before it starts")
        if following is not None and end > following:
            raise Unprocessable(f"the slot at {timefmt.format(start)} overlaps the next one")
        slots.append(SlotInput(start, end, item_type, item_id, hd))
    return ScheduleInput(window_start, window_end, slots)


def match_title(title: str | None) -> str | None:
    """How titles are compared when matching: case, punctuation and spacing ignored."""
    if title is None:
        return None
    words = re.sub(r"[\W_]+", " ", title.casefold()).split()
    return " ".join(words) or title.casefold().strip() or None
