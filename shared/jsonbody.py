"""Reading a JSON request body within the contract's limits."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_MAX_DEPTH = 32


async def read_bytes(request: Request, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"the body is {declared} bytes; at most {max_bytes} are accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the body is over {max_bytes} bytes, the most accepted")
        chunks.append(chunk)
    return b"".join(chunks)


def require_json_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return  # a bare body is taken as JSON, as most clients mean it
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type {media_type!r} is not accepted here: send JSON with Content-Type: application/json"
        )


def parse(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    if depth(value) > max_depth:
        raise BadRequest(f"the JSON is nested more than {max_depth} levels deep; flatten it")
    return value


async def read_object(
    request: Request, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Any]:
    require_json_content_type(request)
    value = parse(await read_bytes(request, max_bytes), max_depth)
    if not isinstance(value, dict):
        raise BadRequest(f"the body must be a JSON object, not {type_name(value)}")
    return value


def depth(value: Any) -> int:
    """Nesting depth without recursion, so a hostile document cannot exhaust the stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def type_name(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
