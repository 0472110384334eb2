"""Times in: Unix seconds or ISO 8601 with an offset. Times out: ISO 8601 UTC."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse(value: str | float | int) -> datetime:
    """Raise ValueError with a sentence a client can act on."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_unix(float(value))
    text = str(value).strip()
    try:
        return _from_unix(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a time: send Unix seconds or ISO 8601 with an offset") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text[:40]!r} has no UTC offset: add one, for example 'Z' or '+01:00'")
    return parsed.astimezone(UTC)


def _from_unix(seconds: float) -> datetime:
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:
        raise ValueError(f"{seconds!r} is not a Unix time between 1970 and 9999")
    return datetime.fromtimestamp(seconds, UTC)


def format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC)
