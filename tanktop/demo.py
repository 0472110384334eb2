"""`tanktop demo` / `make demo`: a realistic generated catalog, loaded through the public API.

Movies, programmes and episodes go in with PUT, the sources' offers with POST ingest/{source}/,
and a week of TV for every channel as one XMLTV guide through POST epg/xmltv (whose programmes the
catalog matches to the generated shows by title, season and episode). The same generator makes the
benchmark's XMLTV file.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)

_ADJECTIVES = [
    "Silent",
    "Crimson",
    "Hidden",
    "Broken",
    "Golden",
    "Last",
    "Northern",
    "Electric",
    "Midnight",
    "Savage",
    "Gentle",
    "Endless",
    "Burning",
    "Frozen",
    "Distant",
    "Wild",
    "Hollow",
    "Bright",
    "Secret",
    "Lost",
    "Iron",
    "Velvet",
    "Paper",
    "Glass",
    "Winter",
    "Summer",
    "Quiet",
    "Restless",
    "Scarlet",
    "Emerald",
]
_NOUNS = [
    "River",
    "Empire",
    "Garden",
    "Horizon",
    "Kingdom",
    "Harbour",
    "Signal",
    "Orchard",
    "Frontier",
    "Lighthouse",
    "Circus",
    "Station",
    "Mirror",
    "Desert",
    "Voyage",
    "Engine",
    "Island",
    "Citadel",
    "Season",
    "Promise",
    "Archive",
    "Letter",
    "Tide",
    "Canyon",
    "Bridge",
    "Compass",
    "Lantern",
    "Meadow",
    "Republic",
]
_FIRST = [
    "Ada",
    "Ben",
    "Cara",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rosa",
    "Sami",
    "Tove",
    "Uma",
    "Vik",
    "Wren",
    "Yara",
    "Zed",
    "Alba",
    "Bruno",
    "Celia",
    "Dario",
    "Edda",
    "Felix",
    "Greta",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Luca",
    "Mara",
    "Nico",
    "Olga",
    "Pavel",
    "Rhea",
    "Soren",
    "Tara",
]
_LAST = [
    "Quill",
    "Harrow",
    "Vell",
    "Marsh",
    "Stone",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Duarte",
    "Haddad",
    "Kowalski",
    "Brennan",
    "Castillo",
    "Ferreira",
    "Nakamura",
    "Ivanova",
    "Osei",
    "Lund",
    "Varga",
    "Keller",
    "Rossi",
    "Dubois",
    "Park",
    "Mensah",
    "Sato",
    "Horvat",
    "Nilsen",
    "Costa",
]
_MOVIE_CATEGORIES = (
    "Action",
    "Comedy",
    "Drama",
    "Thriller",
    "Science Fiction",
    "Romance",
    "Horror",
    "Documentary",
    "Animation",
    "Mystery & Suspense",
    "Classics",
    "Family",
)
_TV_CATEGORIES = ("Drama", "Comedy", "Crime", "Reality", "Documentary", "Kids", "Lifestyle", "Sport", "News", "Quiz")
_SOURCES = (
    ("BBC iPlayer", "F", "GB"),
    ("ITVX", "F", "GB"),
    ("Channel 4", "F", "GB"),
    ("My5", "F", "GB"),
    ("Netflix", "S", "GB"),
    ("Netflix US", "S", "US"),
    ("Disney+", "S", "GB"),
    ("Prime Video", "S", "GB"),
    ("NOW", "S", "GB"),
    ("Apple TV+", "S", "US"),
    ("iTunes", "P", "GB"),
    ("iTunes US", "P", "US"),
    ("Google Play", "P", "GB"),
    ("Google Play US", "P", "US"),
    ("Rakuten TV", "P", "GB"),
    ("Sky Store", "P", "GB"),
    ("Microsoft Store", "P", "GB"),
    ("Amazon Video", "P", "GB"),
    ("Vudu", "P", "US"),
    ("Chili", "P", "GB"),
    ("Pluto TV", "F", "US"),
    ("Tubi", "F", "US"),
    ("BritBox", "S", "GB"),
    ("MUBI", "S", "GB"),
    ("Curzon Home Cinema", "P", "GB"),
    ("BFI Player", "S", "GB"),
    ("Hulu", "S", "US"),
    ("Paramount+", "S", "GB"),
    ("Shudder", "S", "GB"),
    ("Kanopy", "U", "US"),
)
_CHANNELS = (
    "BBC One",
    "BBC Two",
    "ITV1",
    "Channel 4",
    "Channel 5",
    "Sky Atlantic",
    "Sky Max",
    "Dave",
    "Film4",
    "More4",
    "E4",
    "Gold",
    "Alibi",
    "Quest",
    "Sky Sports Main Event",
    "TNT Sports 1",
    "Sky News",
    "CBBC",
    "Yesterday",
    "Drama",
)
_SPORTS = {
    "football": (
        "Football",
        ["Arsenal", "Chelsea", "Liverpool", "Manchester City", "Tottenham", "Everton", "Newcastle"],
    ),
    "tennis": ("Tennis", []),
    "formula-1": ("Formula 1", ["Ferrari", "McLaren", "Mercedes", "Red Bull", "Williams"]),
    "cricket": ("Cricket", ["England", "Australia", "India"]),
}


@dataclass
class Show:
    id: str
    title: str
    seasons: list[list[str]]  # episode ids per season, in order
    category: str
    runtime: int


@dataclass
class DemoCatalog:
    sources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    movies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    programmes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    episodes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    channels: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    shows: list[Show] = field(default_factory=list)
    offers: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # source -> ingest body
    sports: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    ties: list[str] = field(default_factory=list)  # association paths
    collections: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _title(rng: random.Random, used: set[str]) -> str:
    while True:
        pattern = rng.randrange(4)
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        title = (
            f"The {adjective} {noun}"
            if pattern == 0
            else f"{adjective} {noun}"
            if pattern == 1
            else f"{noun} of the {adjective} {rng.choice(_NOUNS)}"
            if pattern == 2
            else f"The {noun}s"
        )
        if title not in used:
            used.add(title)
            return title
        if len(used) > 20_000:
            title = f"{title} {len(used)}"
            used.add(title)
            return title


def generate(
    seed: int = 7, *, movies: int = 2000, programmes: int = 200, sources: int = 30, channels: int = 20
) -> DemoCatalog:
    rng = random.Random(seed)
    catalog = DemoCatalog()
    people = [(f"{n}", f"{rng.choice(_FIRST)} {rng.choice(_LAST)}") for n in range(1000, 1800)]
    movie_categories = [(n + 1, name) for n, name in enumerate(_MOVIE_CATEGORIES)]
    tv_categories = [(n + 1, name) for n, name in enumerate(_TV_CATEGORIES)]
    for n, (name, model, country) in enumerate(_SOURCES[:sources], start=1):
        catalog.sources.append(
            (str(n), {"name": name.replace(" ", ""), "display_name": name, "payment_model": model, "country": country})
        )
    used: set[str] = set()
    for n in range(movies):
        cast = rng.sample(people, rng.randint(3, 6))
        director = rng.choice(people)
        catalog.movies.append(
            (
                str(10_000 + n),
                {
                    "title": _title(rng, used),
                    "year": rng.randint(1950, 2026),
                    "runtime": rng.randint(80, 175),
                    "directors": [{"id": int(director[0]), "name": director[1]}],
                    "actors": [{"id": int(p[0]), "name": p[1]} for p in cast],
                    "categories": [
                        {"id": c, "name": name} for c, name in rng.sample(movie_categories, rng.randint(1, 3))
                    ],
                    "imdb_id": f"tt{rng.randrange(10**6, 10**7):07d}",
                    "synopsis": f"A story of {rng.choice(_NOUNS).lower()}s and {rng.choice(_NOUNS).lower()}s.",
                },
            )
        )
    for n in range(programmes):
        programme_id = str(500 + n)
        category_id, category = rng.choice(tv_categories)
        title = _title(rng, used)
        runtime = rng.choice((22, 30, 45, 50, 60))
        cast = rng.sample(people, rng.randint(2, 5))
        catalog.programmes.append(
            (
                programme_id,
                {
                    "title": title,
                    "year": rng.randint(1990, 2026),
                    "actors": [{"id": int(p[0]), "name": p[1]} for p in cast],
                    "categories": [{"id": category_id, "name": category}],
                    "tvdb_id": rng.randrange(70_000, 400_000),
                },
            )
        )
        seasons = []
        for season in range(1, rng.choice((1, 1, 2, 2, 3, 4)) + 1):
            episode_ids = []
            for episode in range(1, rng.randint(4, 10) + 1):
                episode_id = f"{programme_id}-{season}-{episode}"
                episode_ids.append(episode_id)
                catalog.episodes.append(
                    (
                        episode_id,
                        {
                            "programme_id": int(programme_id),
                            "season": season,
                            "episode": episode,
                            "title": f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
                            "runtime": runtime,
                        },
                    )
                )
            seasons.append(episode_ids)
        catalog.shows.append(Show(programme_id, title, seasons, category, runtime))
    now = datetime.now(UTC).replace(microsecond=0)
    for source_id, source in catalog.sources:
        body: dict[str, list[dict[str, Any]]] = {"movies": [], "programmes": []}
        for movie_id, _ in rng.sample(catalog.movies, min(len(catalog.movies), rng.randint(80, 400))):
            body["movies"].append({"id": int(movie_id), "instance": _offer(rng, source["payment_model"], now)})
        for programme_id, _ in rng.sample(catalog.programmes, min(len(catalog.programmes), rng.randint(10, 60))):
            offer = _offer(rng, source["payment_model"], now)
            body["programmes"].append({"id": int(programme_id), "instance": offer})
        catalog.offers[source_id] = body
    for n, name in enumerate(_channel_names(channels), start=1):
        catalog.channels.append(
            (
                str(n),
                {
                    "name": name,
                    "number": 100 + n,
                    "country": "GB",
                    "hd": n % 3 == 0,
                    "xmltv_id": f"{name.lower().replace(' ', '')}.demo.tanktop",
                },
            )
        )
    catalog.sports = {sport_id: value for sport_id, value in _SPORTS.items()}
    sport_shows = [show for show in catalog.shows if show.category == "Sport"] or catalog.shows[:4]
    for number, show in enumerate(sport_shows):
        sport_id = list(_SPORTS)[number % len(_SPORTS)]
        catalog.ties.append(f"sport/{sport_id}/programme/{show.id}/")
        teams = _SPORTS[sport_id][1]
        for team in rng.sample(teams, min(2, len(teams))):
            catalog.ties.append(f"sport/{sport_id}/team/{_slug(team)}/programme/{show.id}/")
    catalog.ties += [f"sport/football/movie/{movie_id}/" for movie_id, _ in catalog.movies[:3]]
    for n, (title, chosen) in enumerate(
        (
            ("Staff picks", rng.sample(catalog.movies, min(12, len(catalog.movies)))),
            ("Classics", [m for m in catalog.movies if m[1]["year"] < 1970][:12]),
            ("Binge-worthy", rng.sample(catalog.programmes, min(8, len(catalog.programmes)))),
        ),
        start=1,
    ):
        item_type = "programme" if title == "Binge-worthy" else "movie"
        items = [{"item_type": item_type, "item_id": int(item_id)} for item_id, _ in chosen]
        catalog.collections.append((f"demo-{n}", {"title": title, "items": items}))
    return catalog


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _channel_names(count: int) -> list[str]:
    return [*_CHANNELS, *(f"Demo {n}" for n in range(len(_CHANNELS) + 1, count + 1))][:count]


def _offer(rng: random.Random, model: str, now: datetime) -> dict[str, Any]:
    if model == "F":
        offer: dict[str, Any] = {"price_rent": 0}
    elif model == "S":
        offer = {"price_rent": -1, "price_rent_hd": -1 if rng.random() < 0.7 else None}
    elif model == "P":
        rent = rng.choice((199, 249, 349, 399, 449))
        buy = rng.choice((499, 699, 799, 999, 1399))
        offer = {"price_rent": rent, "price_rent_hd": rent + 100, "price_buy": buy, "price_buy_hd": buy + 200}
    else:
        offer = {}
    if rng.random() < 0.15:
        offer["expires"] = (now + timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))).isoformat()
    return offer


def guide(
    catalog: DemoCatalog,
    *,
    days: int = 7,
    start: datetime | None = None,
    seed: int = 11,
    channels: Iterable[tuple[str, str]] | None = None,
) -> bytes:
    """An XMLTV week for the channels: episodes (xmltv_ns and onscreen numbers), films, news; about
    500 programmes per channel a week. A third of the programmes carry no stop, as real feeds do."""
    rng = random.Random(seed)
    began = start or datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    listed = list(channels) if channels is not None else [(c["xmltv_id"], c["name"]) for _, c in catalog.channels]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n']
    parts.append('<tv generator-info-name="tanktop-demo">\n')
    for xmltv_id, name in listed:
        parts.append(f"  <channel id={quoteattr(xmltv_id)}><display-name>{escape(name)}</display-name></channel>\n")
    end = began + timedelta(days=days)
    position: dict[str, int] = {}
    for xmltv_id, _ in listed:
        moment = began
        while moment < end:
            roll = rng.random()
            if roll < 0.47:
                minutes = rng.choice((5, 10))
                body = f"<title>{escape(name_of_news(xmltv_id))}</title><category>News</category>"
            elif roll < 0.92 and catalog.shows:
                show = rng.choice(catalog.shows)
                seen = position.get(show.id, 0)
                flat = [(s, e) for s, season in enumerate(show.seasons) for e in range(len(season))]
                season, episode = flat[seen % len(flat)]
                position[show.id] = seen + 1
                minutes = rng.choice((15, 20, 25))
                numbers = (
                    f'<episode-num system="xmltv_ns">{season}.{episode}.0/1</episode-num>'
                    if rng.random() < 0.6
                    else f'<episode-num system="onscreen">S{season + 1:02d}E{episode + 1:02d}</episode-num>'
                )
                body = (
                    f"<title>{escape(show.title)}</title><sub-title>Part {episode + 1}</sub-title>"
                    f"<category>{escape(show.category)}</category>{numbers}"
                )
            else:
                movie: dict[str, Any] = rng.choice(catalog.movies)[1] if catalog.movies else {"title": "Feature"}
                minutes = rng.choice((90, 100))
                body = (
                    f"<title>{escape(movie['title'])}</title><date>{movie.get('year', 2000)}</date>"
                    f'<category>Movie</category><length units="minutes">{movie.get("runtime", minutes)}</length>'
                )
            stop = moment + timedelta(minutes=minutes)
            stop_attribute = "" if rng.random() < 0.33 else f' stop="{stop:%Y%m%d%H%M%S} +0000"'
            quality = "<video><quality>HDTV</quality></video>" if rng.random() < 0.3 else ""
            parts.append(
                f'  <programme start="{moment:%Y%m%d%H%M%S} +0000"{stop_attribute} channel={quoteattr(xmltv_id)}>'
                f"{body}{quality}</programme>\n"
            )
            moment = stop
    parts.append("</tv>\n")
    return "".join(parts).encode()


def name_of_news(xmltv_id: str) -> str:
    return "News and Weather" if hash(xmltv_id) % 2 else "Newsround"


# --- loading through the API ------------------------------------------------------------------


class Loader:
    def __init__(self, client: httpx.AsyncClient, base: str, concurrency: int) -> None:
        self._client = client
        self._base = base
        self._limit = asyncio.Semaphore(concurrency)
        self.failures: list[str] = []

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        async with self._limit:
            for attempt in range(5):
                response = await self._client.request(method, f"{self._base}/{path}", **kwargs)
                if response.status_code not in (429, 503):
                    break
                await asyncio.sleep(float(response.headers.get("retry-after", 1)) * (attempt + 1))
        if response.status_code >= 400:
            if len(self.failures) < 10:
                self.failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    async def each(
        self, progress: Progress, label: str, work: list[tuple[str, str, dict[str, Any]]]
    ) -> list[httpx.Response | None]:
        task = progress.add_task(label, total=len(work))

        async def one(method: str, path: str, body: dict[str, Any]) -> httpx.Response | None:
            answer = await self.send(method, path, json=body)
            progress.advance(task)
            return answer

        return await asyncio.gather(*(one(*step) for step in work))


async def load(url: str, key: str, catalog: DemoCatalog, *, days: int, concurrency: int) -> dict[str, Any]:
    base = f"{url.rstrip('/')}/api/1/{key}"
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    async with httpx.AsyncClient(timeout=120) as client:
        loader = Loader(client, base, concurrency)
        with Progress(*columns, console=err) as progress:
            await loader.each(progress, "sources", [("PUT", f"source/{i}/", b) for i, b in catalog.sources])
            await loader.each(progress, "movies", [("PUT", f"movie/{i}/", b) for i, b in catalog.movies])
            await loader.each(progress, "programmes", [("PUT", f"programme/{i}/", b) for i, b in catalog.programmes])
            await loader.each(progress, "episodes", [("PUT", f"episode/{i}/", b) for i, b in catalog.episodes])
            await loader.each(
                progress, "offers (ingest per source)", [("POST", f"ingest/{s}/", b) for s, b in catalog.offers.items()]
            )
            await loader.each(progress, "channels", [("PUT", f"channel/{i}/", b) for i, b in catalog.channels])
            sports = [("PUT", f"sport/{s}/", {"name": name}) for s, (name, _) in catalog.sports.items()]
            await loader.each(progress, "sports", sports)
            teams = [
                ("PUT", f"sport/{s}/team/{_slug(team)}/", {"name": team})
                for s, (_, names) in catalog.sports.items()
                for team in names
            ]
            await loader.each(progress, "teams", teams)
            await loader.each(progress, "sports content", [("PUT", path, {}) for path in catalog.ties])
            await loader.each(progress, "collections", [("PUT", f"collection/{i}/", b) for i, b in catalog.collections])
            task = progress.add_task(f"EPG: {days}-day XMLTV guide", total=1)
            document = guide(catalog, days=days)
            answer = await loader.send(
                "POST", "epg/xmltv", content=document, headers={"content-type": "application/xml"}
            )
            progress.advance(task)
    return {
        "failures": loader.failures,
        "epg": answer.json() if answer is not None else None,
        "guide_bytes": len(document),
    }


def admin_key_from_local_database() -> str:
    from gateway import auth
    from tanktop.cli import with_key_store

    async def create(pool: Any) -> str:
        key, _ = await auth.create_key(pool, "demo", "admin", 1000.0, 2000)
        return key

    return with_key_store(create)


def command(
    url: Annotated[
        str, typer.Option(envvar="TANKTOP_URL", help="Where the platform answers.")
    ] = "http://127.0.0.1:8080",
    key: Annotated[
        str | None,
        typer.Option(
            envvar="TANKTOP_ADMIN_KEY",
            help="An admin API key. Without one, an admin key of tenant 'demo' is made in the local database.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same catalog.")] = 7,
    movies: Annotated[int, typer.Option()] = 2000,
    programmes: Annotated[int, typer.Option()] = 200,
    days: Annotated[int, typer.Option(help="Days of schedule per channel.")] = 7,
    concurrency: Annotated[int, typer.Option()] = 16,
) -> None:
    """Load a generated catalog through the API: 2,000 movies, 200 programmes, 30 sources, 20 channels, a week of TV."""
    if key is None:
        key = admin_key_from_local_database()
        err.print(f"made an admin key for tenant 'demo' (keep it; it is shown once): [bold]{key}[/bold]")
    catalog = generate(seed, movies=movies, programmes=programmes)
    try:
        outcome = asyncio.run(load(url, key, catalog, days=days, concurrency=concurrency))
    except httpx.HTTPError as error:
        err.print(f"[red]cannot reach the platform at {url}: {type(error).__name__}. Is `make run` up?[/red]")
        raise typer.Exit(1) from None
    for failure in outcome["failures"]:
        err.print(f"[red]{failure}[/red]")
    epg = outcome["epg"] or {}
    err.print(
        f"loaded {len(catalog.movies)} movies, {len(catalog.programmes)} programmes with {len(catalog.episodes)} "
        f"episodes, {len(catalog.sources)} sources, {len(catalog.channels)} channels; EPG: {epg.get('slots', 0)} "
        f"slots, {epg.get('matched', 0)} matched to catalog items"
    )
    err.print(f"try: curl {url}/api/1/{'{key}'}/movie/10000/   and   curl {url}/api/1/{'{key}'}/schedule/1/")
    if outcome["failures"]:
        raise typer.Exit(1)
