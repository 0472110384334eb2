"""Where a checkout keeps its local state: downloads under .cache, data under .data."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TANKTOP_CACHE_DIR", ROOT / ".cache"))
DATA = Path(os.environ.get("TANKTOP_DATA_DIR", ROOT / ".data"))
KAFKA_POM = ROOT / "deploy" / "kafka" / "pom.xml"
