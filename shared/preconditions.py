"""Entity tags and RFC 9110 conditional requests (If-Match, If-None-Match)."""

from __future__ import annotations


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_holds(header: str | None, version: int | None) -> bool:
    """Strong comparison: a weak tag never matches; `*` matches any current representation."""
    if header is None:
        return True
    if version is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag(version) in tags


def if_none_match_holds(header: str | None, version: int | None) -> bool:
    if header is None or version is None:
        return True
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" not in tags and etag(version) not in tags
