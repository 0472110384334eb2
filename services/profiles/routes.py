"""HTTP entrypoints of the profiles service: translate requests to use cases and back."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response

from services.profiles.service import Preconditions, Profile, Profiles
from shared import ids, jsonbody
from shared.preconditions import etag
from shared.tenancy import Tenant

router = APIRouter()


async def profiles_of(request: Request) -> Profiles:
    service: Profiles = request.app.state.profiles
    return service


ProfilesService = Annotated[Profiles, Depends(profiles_of)]


async def conditions(
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Preconditions:
    return Preconditions(if_match=if_match, if_none_match=if_none_match)


Conditions = Annotated[Preconditions, Depends(conditions)]


def profile_response(profile: Profile, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(profile.body),
        status_code=status,
        media_type="application/json",
        headers={"ETag": etag(profile.version), **(headers or {})},
    )


async def profile_body(request: Request) -> dict[str, Any]:
    return await jsonbody.read_object(request)


Body = Annotated[dict[str, Any], Depends(profile_body)]


@router.put("/user/{user_id}")
async def put_profile(user_id: str, body: Body, tenant: Tenant, service: ProfilesService, when: Conditions) -> Response:
    profile, created = await service.put(tenant, ids.user_id(user_id), body, when)
    return profile_response(profile, 201 if created else 200)


@router.post("/user")
async def create_profile(body: Body, tenant: Tenant, service: ProfilesService) -> Response:
    profile = await service.create(tenant, body)
    return profile_response(profile, 201, {"Location": f"/user/{profile.body['id']}/"})


@router.patch("/user/{user_id}")
@router.post("/user/{user_id}")
async def update_profile(
    user_id: str, body: Body, tenant: Tenant, service: ProfilesService, when: Conditions
) -> Response:
    return profile_response(await service.patch(tenant, ids.user_id(user_id), body, when))


@router.get("/user/{user_id}")
async def get_profile(user_id: str, tenant: Tenant, service: ProfilesService) -> Response:
    return profile_response(await service.get(tenant, ids.user_id(user_id)))


@router.delete("/user/{user_id}", status_code=204)
async def deactivate_profile(user_id: str, tenant: Tenant, service: ProfilesService, when: Conditions) -> Response:
    await service.deactivate(tenant, ids.user_id(user_id), when)
    return Response(status_code=204)


@router.post("/user/{user_id}/sport/{sport_id}", status_code=204)
@router.post("/user/{user_id}/sport/{sport_id}/{team_id}", status_code=204)
async def follow_sport(
    user_id: str, sport_id: str, tenant: Tenant, service: ProfilesService, team_id: str | None = None
) -> Response:
    await service.add_sport(tenant, *_sport_path(user_id, sport_id, team_id))
    return Response(status_code=204)


@router.delete("/user/{user_id}/sport/{sport_id}", status_code=204)
@router.delete("/user/{user_id}/sport/{sport_id}/{team_id}", status_code=204)
async def unfollow_sport(
    user_id: str, sport_id: str, tenant: Tenant, service: ProfilesService, team_id: str | None = None
) -> Response:
    await service.remove_sport(tenant, *_sport_path(user_id, sport_id, team_id))
    return Response(status_code=204)


@router.get("/user/{user_id}/sport")
async def list_sports(user_id: str, tenant: Tenant, service: ProfilesService) -> dict[str, Any]:
    grouped = await service.sports(tenant, ids.user_id(user_id))
    return {
        "sports": [
            {"sport_id": ids.to_json(sport_id), "teams": [ids.to_json(team) for team in teams]}
            for sport_id, teams in grouped.items()
        ]
    }


def _sport_path(user_id: str, sport_id: str, team_id: str | None) -> tuple[str, str, str | None]:
    return (
        ids.user_id(user_id),
        ids.item_id(sport_id, "sport id"),
        ids.item_id(team_id, "team id") if team_id is not None else None,
    )
