from __future__ import annotations

import json

import pytest
import structlog

from shared import logging as platform_logging


def test_keys_and_secrets_never_reach_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    platform_logging.configure("info")
    log = structlog.get_logger("test")
    log.info(
        "request.done",
        path="/api/1/tk_abcdefgh0123456789abcdefghij0123456789/user/7/",
        apikey="tk_secret",
        webhook_secret="whsec",
        tenant="acme",
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    event = json.loads(line)
    assert event["path"] == "/api/1/<redacted>/user/7/"
    assert event["apikey"] == "<redacted>" and event["webhook_secret"] == "<redacted>"
    assert event["tenant"] == "acme"
    assert "tk_" not in line and "whsec" not in line
