"""Paging by `start` and `count` (spec section 1), and the Link header that points to the next page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from shared.errors import BadRequest

MAX_COUNT = 1000


@dataclass(frozen=True)
class Window:
    start: int
    count: int

    def next_link(self) -> dict[str, str]:
        """The Link header to the page after this one.

        Relative to the request's own URL (RFC 3986 section 5.2): that URL carries the API key, which a
        service never sees, and a client resolves the reference against it.
        """
        return {"Link": f'<?{urlencode({"start": self.start + self.count, "count": self.count})}>; rel="next"'}


def window(
    start: str | None, count: str | None, *, default_count: int = MAX_COUNT, max_count: int = MAX_COUNT
) -> Window:
    return Window(
        _whole_number(start, "start", 0, None, default=0),
        _whole_number(count, "count", 1, max_count, default=default_count),
    )


def _whole_number(text: str | None, name: str, low: int, high: int | None, *, default: int) -> int:
    if text is None or text == "":
        return default
    # isdigit() alone takes '²', and int() refuses thousands of digits: either would be a 500.
    whole = text.isascii() and text.isdigit() and len(text) <= 9
    if not whole or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadRequest(f"{name} must be a whole number {bounds}, not {text[:20]!r}", extra={"field": name})
    return int(text)
