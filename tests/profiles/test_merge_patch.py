"""RFC 7396 Appendix A: every example, applied by the service's merge patch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.profiles.merge_patch import apply
from tests.api import ApiKey

APPENDIX_A: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), APPENDIX_A)
def test_appendix_a(target: Any, patch: Any, result: Any) -> None:
    assert apply(target, patch) == result


def test_patch_does_not_change_its_inputs() -> None:
    target = {"a": {"b": 1}}
    apply(target, {"a": {"b": None}})
    assert target == {"a": {"b": 1}}


# The object-to-object vectors, through the API: a profile is always an object with its id.
@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [(t, p, r) for t, p, r in APPENDIX_A if isinstance(t, dict) and isinstance(p, dict) and "e" not in t],
)
async def test_appendix_a_through_the_api(
    client: httpx.AsyncClient, api_key: ApiKey, target: dict[str, Any], patch: dict[str, Any], result: Any
) -> None:
    await client.put(api_key.path("user/rfc/"), json=target)
    response = await client.patch(api_key.path("user/rfc/"), json=patch)
    assert response.status_code == 200
    assert response.json() == {"id": "rfc", **result}
