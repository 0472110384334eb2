"""The services this platform runs, and where each listens when run as its own process."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str  # exposes create_app(settings, bus=...) and Settings
    port: int

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("profiles", "services.profiles.app", 8101),
    ServiceSpec("events", "services.events.app", 8102),
    ServiceSpec("catalog", "services.catalog.app", 8103),
    ServiceSpec("bookmarks", "services.bookmarks.app", 8104),
)

GATEWAY_PORT = 8080
