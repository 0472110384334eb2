"""The tenant a request belongs to, as vouched for by the gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.errors import Unauthorized

# The gateway strips these from client requests and sets them after checking the API key.
TENANT_HEADER = "x-tanktop-tenant"
ROLE_HEADER = "x-tanktop-role"


async def tenant_from_request(request: Request) -> str:
    # async: FastAPI runs plain-def dependencies in a thread pool, a costly hop on every request.
    tenant = request.headers.get(TENANT_HEADER)
    if not tenant:
        raise Unauthorized("no tenant on this request: call the API through the gateway with an API key")
    return tenant


Tenant = Annotated[str, Depends(tenant_from_request)]
