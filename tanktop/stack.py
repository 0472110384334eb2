"""The production topology on one machine: each service and the gateway in its own process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from shared.settings import prefix
from tanktop import paths
from tanktop.registry import GATEWAY_PORT, SERVICES, ServiceSpec


def _uvicorn(target: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            # The child's own words say why (a start-up failure is otherwise just "exited with 3").
            raise RuntimeError(f"process for port {port} exited with {process.returncode}; its log:{_tail(log)}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


class Stack:
    def __init__(
        self,
        database_url: str,
        kafka_bootstrap: str,
        *,
        gateway_port: int = GATEWAY_PORT,
        service_ports: dict[str, int] | None = None,
        log_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.kafka_bootstrap = kafka_bootstrap
        self.gateway_port = gateway_port
        self.ports = service_ports or {spec.name: spec.port for spec in SERVICES}
        self.log_dir = log_dir or paths.DATA / "logs"
        self.extra_env = extra_env or {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        env_prefix = prefix(spec.name)
        return {
            f"{env_prefix}DATABASE_URL": self.database_url,
            f"{env_prefix}KAFKA_BOOTSTRAP": self.kafka_bootstrap,
        }

    def gateway_env(self) -> dict[str, str]:
        env = {"TANKTOP_GATEWAY_DATABASE_URL": self.database_url}
        for name, port in self.ports.items():
            env[f"TANKTOP_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        return env

    def _spawn(self, name: str, target: str, port: int, env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                _uvicorn(target, port),
                env={**os.environ, **self.extra_env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=paths.ROOT,
            )
        self.processes[name] = process
        wait_listening(port, process, log=log_path)

    def start_service(self, name: str) -> None:
        spec = next(spec for spec in SERVICES if spec.name == name)
        self._spawn(name, f"{spec.module}:create_app", self.ports[name], self.service_env(spec))

    def start(self) -> None:
        """Start the services given ports (every service by default), then the gateway in front of them."""
        for name in self.ports:
            self.start_service(name)
        self._spawn("gateway", "gateway.app:create_app", self.gateway_port, self.gateway_env())

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hooks run, as in a crash."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def run_stack() -> None:
    from tanktop.kafka import KafkaBroker
    from tanktop.postgres import embedded_server

    _, database_url = embedded_server()
    broker = KafkaBroker(paths.DATA / "kafka", port=9092, controller_port=9093)
    broker.start()
    stack = Stack(database_url, broker.bootstrap)
    try:
        stack.start()
        print(
            f"stack up: gateway http://127.0.0.1:{stack.gateway_port}, Kafka {broker.bootstrap}, "
            f"logs in {stack.log_dir}; Ctrl-C stops it",
            flush=True,
        )
        while all(process.poll() is None for process in stack.processes.values()):
            time.sleep(1)
        print("a process exited; stopping the stack", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        broker.stop()
