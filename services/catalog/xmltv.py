"""XMLTV documents read into a guide, safely: no entity declarations, no external references.

Only the parts the catalog keeps are read. Times become UTC; episode numbers become one-based
(xmltv_ns counts from zero, onscreen forms such as "S01E02" from one).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only for its types and ParseError; parsing is defusedxml's
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from shared.errors import BadRequest

# episode-num systems that number episodes rather than identify them
_NUMBERING_SYSTEMS = frozenset({"xmltv_ns", "onscreen", "common", "sxxexx"})
_MOVIE_CATEGORY = re.compile(r"\b(movies?|films?|feature)\b", re.IGNORECASE)
_TIME = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([+-]\d{2}:?\d{2}|[A-Za-z]+)?")
_ONSCREEN = (
    re.compile(r"S(?:eason|eries)?\s*(\d{1,4})\s*[,.:/-]?\s*E(?:p(?:isode)?)?\.?\s*(\d{1,5})", re.IGNORECASE),
    re.compile(r"\b(\d{1,3})\s*x\s*(\d{1,4})\b", re.IGNORECASE),
)
_ONSCREEN_EPISODE_ONLY = re.compile(r"^\s*(?:E|Ep\.?|Episode)\s*(\d{1,5})\s*$", re.IGNORECASE)
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "BST": 60, "CET": 60, "CEST": 120, "EST": -300, "EDT": -240, "PST": -480}


@dataclass
class GuideChannel:
    xmltv_id: str
    names: list[str] = field(default_factory=list)
    icon: str | None = None
    url: str | None = None


@dataclass
class GuideProgramme:
    channel: str
    start: datetime
    stop: datetime | None
    title: str
    sub_title: str | None = None
    desc: str | None = None
    categories: list[str] = field(default_factory=list)
    directors: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    year: int | None = None
    first_aired: str | None = None  # ISO date
    length_minutes: int | None = None
    season: int | None = None
    episode: int | None = None
    external_ids: dict[str, str] = field(default_factory=dict)
    hd: bool = False

    @property
    def kind(self) -> str:
        """movie, episode, or programme (a slot that names only the programme)."""
        numbered = self.season is not None or self.episode is not None
        if not numbered and any(_MOVIE_CATEGORY.search(c) for c in self.categories):
            return "movie"
        if numbered or self.sub_title or self.external_ids:
            return "episode"
        return "programme"


@dataclass
class Guide:
    channels: list[GuideChannel]
    programmes: list[GuideProgramme]
    skipped: list[str]  # what could not be used, one sentence each (the first few kept)
    skipped_count: int = 0


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Skip(Exception):
    pass


def parse(stream: Readable, on_element: Callable[[], None] | None = None) -> Guide:
    """Read a whole XMLTV document. Raise BadRequest with a sentence a client can act on."""
    channels: dict[str, GuideChannel] = {}
    programmes: list[GuideProgramme] = []
    skipped: list[str] = []
    skipped_count = 0
    root_seen = False
    try:
        for event, element in SafeET.iterparse(stream, events=("start", "end")):
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if element.tag != "tv":
                        raise BadRequest(f"an XMLTV document has <tv> at its root, not <{element.tag[:40]}>")
                continue
            if element.tag == "channel":
                channel = _channel(element)
                if channel is not None:
                    channels.setdefault(channel.xmltv_id, channel)
                element.clear()
            elif element.tag == "programme":
                try:
                    programmes.append(_programme(element))
                except _Skip as reason:
                    skipped_count += 1
                    if len(skipped) < 20:
                        skipped.append(str(reason))
                element.clear()
                if on_element is not None:
                    on_element()
    except (EntitiesForbidden, ExternalReferenceForbidden, DTDForbidden) as error:
        raise BadRequest(
            "the XML declares entities or refers to external resources "
            f"({type(error).__name__}); such documents are refused: send plain XMLTV without an internal DTD subset"
        ) from None
    except DefusedXmlException as error:
        raise BadRequest(f"the XML was refused as unsafe ({type(error).__name__})") from None
    except ET.ParseError as error:
        raise BadRequest(f"the body is not well-formed XML: {error}") from None
    return Guide(list(channels.values()), programmes, skipped, skipped_count)


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    if child is None or child.text is None:
        return None
    text = " ".join(child.text.split())
    return text or None


def _channel(element: ET.Element) -> GuideChannel | None:
    xmltv_id = (element.get("id") or "").strip()
    if not xmltv_id:
        return None
    names = [" ".join(n.text.split()) for n in element.findall("display-name") if n.text and n.text.strip()]
    icon = element.find("icon")
    return GuideChannel(
        xmltv_id=xmltv_id,
        names=names,
        icon=icon.get("src") if icon is not None else None,
        url=_text(element, "url"),
    )


def _programme(element: ET.Element) -> GuideProgramme:
    channel = (element.get("channel") or "").strip()
    if not channel:
        raise _Skip("a programme has no channel attribute")
    start_text = element.get("start")
    if not start_text:
        raise _Skip(f"a programme on {channel!r} has no start")
    start = parse_time(start_text)
    stop_text = element.get("stop")
    stop = parse_time(stop_text) if stop_text else None
    title = _text(element, "title")
    if not title:
        raise _Skip(f"the programme at {start_text} on {channel!r} has no title")
    programme = GuideProgramme(channel=channel, start=start, stop=stop, title=title[:500])
    programme.sub_title = (_text(element, "sub-title") or "")[:500] or None
    programme.desc = _text(element, "desc")
    programme.categories = [" ".join(c.text.split()) for c in element.findall("category") if c.text and c.text.strip()]
    credits = element.find("credits")
    if credits is not None:
        programme.directors = [
            " ".join(d.text.split()) for d in credits.findall("director") if d.text and d.text.strip()
        ]
        programme.actors = [" ".join(a.text.split()) for a in credits.findall("actor") if a.text and a.text.strip()]
    date = _text(element, "date")
    if date and re.match(r"\d{4}", date):
        programme.year = int(date[:4])
        full = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", date)
        if full:
            programme.first_aired = f"{full.group(1)}-{full.group(2)}-{full.group(3)}"
    programme.length_minutes = _length(element.find("length"))
    _episode_numbers(element, programme)
    video = element.find("video")
    if video is not None:
        quality = (_text(video, "quality") or "").upper()
        programme.hd = "HD" in quality or quality in ("720P", "1080I", "1080P", "2160P", "UHD")
    return programme


def parse_time(text: str) -> datetime:
    """XMLTV times: YYYYMMDDhhmmss with an optional offset (+0100) or zone name; no offset means UTC."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise _Skip(f"{text[:40]!r} is not an XMLTV time (YYYYMMDDhhmmss +HHMM)")
    year, month, day, hour, minute, second, zone = match.groups()
    offset_minutes = 0
    if zone:
        if zone[0] in "+-":
            digits = zone[1:].replace(":", "")
            offset_minutes = (int(digits[:2]) * 60 + int(digits[2:])) * (1 if zone[0] == "+" else -1)
        elif zone.upper() in _ZONES:
            offset_minutes = _ZONES[zone.upper()]
        else:
            raise _Skip(f"{text[:40]!r} has an unknown time zone {zone!r}")
    try:
        local = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=timezone(timedelta(minutes=offset_minutes)),
        )
    except ValueError:
        raise _Skip(f"{text[:40]!r} is not a valid date and time") from None
    return local.astimezone(UTC)


def _length(element: ET.Element | None) -> int | None:
    if element is None or not element.text:
        return None
    try:
        value = float(element.text.strip())
    except ValueError:
        return None
    units = (element.get("units") or "minutes").lower()
    minutes = value / 60 if units == "seconds" else value * 60 if units == "hours" else value
    return round(minutes) if 0 < minutes < 100_000 else None


def _episode_numbers(element: ET.Element, programme: GuideProgramme) -> None:
    onscreen: tuple[int | None, int | None] | None = None
    for number in element.findall("episode-num"):
        system = (number.get("system") or "onscreen").strip().lower()
        text = (number.text or "").strip()
        if not text:
            continue
        if system == "xmltv_ns":
            season, episode = xmltv_ns(text)
            if season is not None or episode is not None:
                programme.season, programme.episode = season, episode
        elif system in _NUMBERING_SYSTEMS:
            onscreen = onscreen or onscreen_numbers(text)
        elif len(text) <= 64 and len(system) <= 32:
            programme.external_ids.setdefault(system, text)
    if programme.season is None and programme.episode is None and onscreen is not None:
        programme.season, programme.episode = onscreen


def xmltv_ns(text: str) -> tuple[int | None, int | None]:
    """'season.episode.part', zero-based, each part optional and perhaps 'n/total': one-based (season, episode)."""
    parts = text.replace(" ", "").split(".")

    def one_based(part: str) -> int | None:
        number = part.split("/", 1)[0]
        return int(number) + 1 if number.isdigit() and len(number) <= 6 else None

    season = one_based(parts[0]) if parts else None
    episode = one_based(parts[1]) if len(parts) > 1 else None
    return season, episode


def onscreen_numbers(text: str) -> tuple[int | None, int | None] | None:
    for pattern in _ONSCREEN:
        match = pattern.search(text)
        if match:
            return int(match.group(1)), int(match.group(2))
    match = _ONSCREEN_EPISODE_ONLY.match(text)
    if match:
        return None, int(match.group(1))
    return None
