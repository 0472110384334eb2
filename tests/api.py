"""How tests address the public API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiKey:
    key: str
    tenant: str

    def path(self, rest: str) -> str:
        return f"/api/1/{self.key}/{rest.lstrip('/')}"


def assert_problem(response: object, status: int, *, mentions: str | None = None) -> dict[str, object]:
    """The answer is RFC 9457 problem+json with this status, and its detail says what to fix."""
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("urn:tanktop:problem:")
    assert body["request_id"] == response.headers["x-request-id"]
    assert "/api/1/tk_" not in response.text, "the API key leaked into an error"
    if mentions is not None:
        assert mentions.lower() in body["detail"].lower(), body["detail"]
    return body
