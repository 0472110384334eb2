"""The catalog's tools: `tanktop catalog import-xmltv` straight to the database, and `tanktop demo` through the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tanktop import demo
from tanktop.cli import app
from tests.api import ApiKey


async def test_import_xmltv_command_writes_the_catalog_and_the_service_publishes(
    client: httpx.AsyncClient, api_key: ApiKey, postgres_url: str, tmp_path: Path, unique: str
) -> None:
    guide = tmp_path / "guide.xml"
    guide.write_text(
        f"""<?xml version="1.0"?>
<tv><channel id="cli-{unique}"><display-name>CLI Channel</display-name></channel>
<programme start="20300601180000 +0000" channel="cli-{unique}"><title>CLI Show {unique}</title>
  <episode-num system="onscreen">S01E01</episode-num></programme>
<programme start="20300601183000 +0000" stop="20300601190000 +0000" channel="cli-{unique}">
  <title>CLI Show {unique}</title><episode-num system="xmltv_ns">0.1.</episode-num></programme>
</tv>"""
    )
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["catalog", "import-xmltv", str(guide)], env={"TANKTOP_DATABASE_URL": postgres_url}
    )
    assert result.exit_code == 0, result.output
    assert '"slots": 2' in result.output
    schedule = await client.get(api_key.path(f"schedule/cli-{unique}/"), params={"from": "2030-06-01T00:00:00Z"})
    assert [(s["season"], s["episode"], s["stop"]) for s in schedule.json()["slots"]] == [
        (1, 1, "2030-06-01T18:30:00Z"),
        (1, 2, "2030-06-01T19:00:00Z"),
    ]
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE tv [<!ENTITY x "y">]><tv>&x;</tv>')
    refused = await asyncio.to_thread(
        CliRunner().invoke, app, ["catalog", "import-xmltv", str(hostile)], env={"TANKTOP_DATABASE_URL": postgres_url}
    )
    assert refused.exit_code == 2 and "entities" in refused.output


async def test_demo_loads_a_catalog_through_the_api(
    client: httpx.AsyncClient, platform_url: str, admin_key: ApiKey, api_key: ApiKey
) -> None:
    catalog = demo.generate(3, movies=40, programmes=8, sources=5, channels=3)
    outcome = await demo.load(platform_url, admin_key.key, catalog, days=1, concurrency=8)
    assert outcome["failures"] == []
    epg = outcome["epg"]
    assert epg["slots"] > 150 and epg["matched"] > 0 and epg["channels"]["created"] == 0
    [movie] = (await client.get(api_key.path("movie/10000/"))).json()["movies"]
    assert movie["title"] == catalog.movies[0][1]["title"] and movie["actors"]
    assert len((await client.get(api_key.path("source/"))).json()["sources"]) >= 5
    channel = (await client.get(api_key.path("channel/1/"))).json()["channels"][0]
    assert channel["name"] == "BBC One"
    assert (await client.get(api_key.path("schedule/1/"))).json()["slots"]
    assert (await client.get(api_key.path("sport/football/team/"))).json()["teams"]
