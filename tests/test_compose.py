"""compose.yaml describes the same topology the code runs: every service, the gateway, Kafka and
Postgres, with health checks, start order, and every setting the code requires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import Settings as GatewaySettings
from tanktop.registry import SERVICES

COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document["services"]


def required_env(settings_class: type, env_prefix: str) -> set[str]:
    fields = settings_class.model_fields  # type: ignore[attr-defined]
    return {f"{env_prefix}{name}".upper() for name, field in fields.items() if field.is_required()}


def test_infrastructure_uses_the_official_images_with_health_checks(compose: dict[str, Any]) -> None:
    assert compose["postgres"]["image"].startswith("postgres:")
    assert compose["kafka"]["image"].startswith("apache/kafka:")
    for name in ("postgres", "kafka"):
        assert compose[name]["healthcheck"]["test"]


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
def test_every_service_is_there_with_its_settings(compose: dict[str, Any], spec: Any) -> None:
    service = compose[spec.name]
    assert f"{spec.module}:create_app" in service["command"]
    assert service["healthcheck"]["test"], "a health check on /readyz"
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
    module = spec.load()
    env_prefix = module.Settings.model_config["env_prefix"]
    environment = service["environment"]
    assert required_env(module.Settings, env_prefix) <= set(environment)
    assert environment[f"{env_prefix}KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert "@postgres:5432/" in environment[f"{env_prefix}DATABASE_URL"]


def test_the_gateway_reaches_every_service(compose: dict[str, Any]) -> None:
    gateway = compose["gateway"]
    assert "gateway.app:create_app" in gateway["command"]
    environment = gateway["environment"]
    assert required_env(GatewaySettings, GatewaySettings.model_config["env_prefix"]) <= set(environment)
    for spec in SERVICES:
        assert environment[f"TANKTOP_GATEWAY_{spec.name.upper()}_URL"] == f"http://{spec.name}:8000"
        assert gateway["depends_on"][spec.name]["condition"] == "service_healthy"
    assert gateway["ports"] == ["8080:8000"]


def test_every_setting_named_in_compose_is_read_by_the_code(compose: dict[str, Any]) -> None:
    known = {f"TANKTOP_GATEWAY_{name}".upper() for name in GatewaySettings.model_fields}
    for spec in SERVICES:
        settings = spec.load().Settings
        known |= {f"{settings.model_config['env_prefix']}{name}".upper() for name in settings.model_fields}
    for name in [spec.name for spec in SERVICES] + ["gateway"]:
        unknown = set(compose[name]["environment"]) - known
        assert not unknown, f"{name} sets {unknown}, which no code reads"
