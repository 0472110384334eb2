"""HTTP entrypoints of the bookmarks service: translate requests to use cases and back."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from services.bookmarks.rules import Bookmark
from services.bookmarks.service import Bookmarks
from shared import ids, paging, timefmt
from shared.tenancy import Tenant

router = APIRouter()


async def bookmarks_of(request: Request) -> Bookmarks:
    service: Bookmarks = request.app.state.bookmarks
    return service


BookmarksService = Annotated[Bookmarks, Depends(bookmarks_of)]


@router.get("/bookmark/{user_id}")
async def list_bookmarks(
    user_id: str, tenant: Tenant, service: BookmarksService, start: str | None = None, count: str | None = None
) -> Response:
    asked = paging.window(start, count)
    page = await service.newest(tenant, ids.user_id(user_id), asked.start, asked.count)
    body = {"bookmarks": [_public(bookmark) for bookmark in page.bookmarks]}
    return _json(body, asked.next_link() if page.more else None)


@router.get("/bookmark/{user_id}/{item_type}/{item_id}")
async def get_bookmark(
    user_id: str, item_type: str, item_id: str, tenant: Tenant, service: BookmarksService
) -> Response:
    bookmark = await service.get(tenant, ids.user_id(user_id), ids.name(item_type, "item type"), ids.item_id(item_id))
    return _json(_public(bookmark))


def _public(bookmark: Bookmark) -> dict[str, Any]:
    body: dict[str, Any] = {
        "item_type": bookmark.item_type,
        "item_id": ids.to_json(bookmark.item_id),
        "state": bookmark.state,
        "position": _number(bookmark.position),
        "runtime": bookmark.runtime,
        "updated_at": timefmt.format(bookmark.updated_at),
    }
    if bookmark.item_type == "programme":
        body["episode_id"] = ids.to_json(bookmark.episode_id) if bookmark.episode_id is not None else None
    elif bookmark.item_type == "episode":
        body["programme_id"] = ids.to_json(bookmark.programme_id) if bookmark.programme_id is not None else None
    if bookmark.item_type != "movie":
        body["season"] = bookmark.season
        body["episode"] = bookmark.episode
    return body


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _json(body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
