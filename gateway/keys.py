"""API key format and hashing. A key is shown once, at creation; only its hash is kept."""

from __future__ import annotations

import hashlib
import re
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
_KEY = re.compile(r"tk_([a-z0-9]{8})([a-z0-9]{32})")


def new_key() -> tuple[str, str]:
    """A fresh (key, prefix)."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(32))
    return f"tk_{prefix}{secret}", prefix


def prefix_of(key: str) -> str | None:
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
