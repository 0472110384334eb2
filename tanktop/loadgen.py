"""HTTP load from vegeta, a compiled load generator, for the benchmarks.

The platform and its load share this machine's 2 cores. A Python client spent about a fifth of a core
per 1,000 requests/s and added its own event-loop queueing to the latencies it reported: at a fixed
1,000 event POSTs/s it measured p99 194 ms where vegeta, on the same stack, measured 16 to 53 ms.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from tanktop import paths

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.12.0"
VEGETA = paths.CACHE / "bin" / f"vegeta-{VEGETA_VERSION}"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Report:
    requests: int
    errors: int  # connection failures and answers of 400 or more
    seconds: float
    p50_ms: float
    p99_ms: float


def ensure_vegeta() -> Path:
    """Build the pinned vegeta into .cache/bin with the machine's Go toolchain, once."""
    if VEGETA.exists():
        return VEGETA
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("the benchmarks drive their load with vegeta, built with Go: install Go, then run again")
    with tempfile.TemporaryDirectory(prefix="tanktop-vegeta-") as gobin:
        # The Go module proxy and checksum database verify the download against the pinned version.
        subprocess.run(
            [go, "install", f"{VEGETA_MODULE}@{VEGETA_VERSION}"],
            check=True,
            env={**os.environ, "GOBIN": gobin},
        )
        VEGETA.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(gobin) / "vegeta", VEGETA)
    return VEGETA


def _targets(requests: Iterable[Request]) -> bytes:
    lines = []
    for request in requests:
        target: dict[str, object] = {"method": request.method, "url": request.url}
        if request.body is not None:
            target["body"] = base64.b64encode(request.body).decode()
        if request.headers:
            target["header"] = {name: [value] for name, value in request.headers.items()}
        lines.append(orjson.dumps(target))
    return b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class Answer:
    url: str
    status: int  # 0 when no answer came
    answered_at: float  # Unix time, seconds


async def attack(
    requests: Iterable[Request], *, seconds: float, rate: int | None = None, workers: int | None = None
) -> Report:
    """Send `requests` (round robin) for `seconds`: at `rate` a second (open loop, as many workers as it
    takes), or with `workers` clients back to back when no rate is given (closed loop)."""
    with tempfile.TemporaryDirectory(prefix="tanktop-load-") as work:
        results = await _attack(Path(work), requests, seconds, rate, workers)
        summary = orjson.loads(await _run(str(VEGETA), "report", "-type=json", str(results)))
    codes: dict[str, int] = summary.get("status_codes") or {}
    latencies = summary["latencies"]
    return Report(
        requests=summary["requests"],
        errors=sum(count for code, count in codes.items() if code == "0" or int(code) >= 400),
        seconds=(summary["duration"] + summary["wait"]) / 1e9,
        p50_ms=latencies["50th"] / 1e6,
        p99_ms=latencies["99th"] / 1e6,
    )


async def attack_each(requests: Iterable[Request], *, seconds: float, rate: int) -> list[Answer]:
    """As `attack` at a fixed rate, but when each request was answered: for timing what follows an answer."""
    with tempfile.TemporaryDirectory(prefix="tanktop-load-") as work:
        results = await _attack(Path(work), requests, seconds, rate, None)
        encoded = await _run(str(VEGETA), "encode", "--to=csv", str(results))
    # Columns: timestamp (ns), code, latency (ns), bytes out, bytes in, error, body, attack, seq, method, url, ...
    return [
        Answer(url=row[10], status=int(row[1]), answered_at=(int(row[0]) + int(row[2])) / 1e9)
        for row in csv.reader(io.StringIO(encoded.decode()))
    ]


async def _attack(
    work: Path, requests: Iterable[Request], seconds: float, rate: int | None, workers: int | None
) -> Path:
    vegeta = await asyncio.to_thread(ensure_vegeta)
    targets, results = work / "targets.json", work / "results.bin"
    targets.write_bytes(_targets(requests))
    pacing = [f"-rate={rate}/s"] if rate else ["-rate=0", f"-workers={workers or 32}", f"-max-workers={workers or 32}"]
    await _run(
        str(vegeta), "attack", "-format=json", f"-targets={targets}", f"-duration={seconds}s",
        "-timeout=30s", f"-output={results}", *pacing,
    )  # fmt: skip
    return results


async def _run(*command: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[1]} failed ({process.returncode}): {err.decode(errors='replace')[-500:]}")
    return out
