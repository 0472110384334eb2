"""One OpenAPI document for the public API, gathered from the services behind the gateway."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson

from gateway.upstream import Upstream, UpstreamUnavailable

_APIKEY_PARAMETER = {
    "name": "apikey",
    "in": "path",
    "required": True,
    "description": "Your API key. Every path answers with and without its trailing slash.",
    "schema": {"type": "string"},
}


async def aggregate(upstreams: dict[str, Upstream]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for service, upstream in sorted(upstreams.items()):
        with contextlib.suppress(UpstreamUnavailable, ValueError):
            answer = await upstream.forward("GET", b"/openapi.json", b"", [], b"")
            if answer.status != 200:
                continue
            document = orjson.loads(answer.body)
            for path, operations in document.get("paths", {}).items():
                public = f"/api/1/{{apikey}}{path}/"
                for operation in operations.values():
                    operation.setdefault("tags", [service])
                    operation["parameters"] = [_APIKEY_PARAMETER, *operation.get("parameters", [])]
                paths[public] = operations
            schemas.update(document.get("components", {}).get("schemas", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tank Top personalization API",
            "version": "1",
            "description": "Profiles, events, bookmarks, notifications, catalog and recommendations. "
            "Errors are RFC 9457 problem details.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


SWAGGER_PAGE = b"""<!doctype html>
<html><head><title>Tank Top API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""
