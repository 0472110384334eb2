"""JSON Merge Patch, RFC 7396 section 2, over any JSON value."""

from __future__ import annotations

from typing import Any


def apply(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = apply(result.get(name), value)
    return result
