"""A real single-node Apache Kafka broker (KRaft) from Maven Central jars, on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tanktop import paths

LIBS = paths.CACHE / "kafka" / "libs"


def ensure_jars() -> Path:
    """Download the broker's jars once; later runs reuse them."""
    if LIBS.is_dir() and any(LIBS.glob("kafka_2.13-*.jar")):
        return LIBS
    LIBS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(paths.KAFKA_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={LIBS}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    return LIBS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class KafkaBroker:
    def __init__(self, data_dir: Path, port: int | None = None, controller_port: int | None = None) -> None:
        """With fixed ports the log is kept across starts; with chosen ones each start is fresh."""
        self.data_dir = data_dir
        self.keep_data = port is not None and controller_port is not None
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _config(self) -> Path:
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    "num.partitions=6",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "",
                ]
            )
        )
        return config

    def start(self, timeout: float = 60.0) -> None:
        libs = ensure_jars()
        java = shutil.which("java") or "java"
        formatted = (self.data_dir / "logs" / "meta.properties").exists()
        if self.data_dir.exists() and not (self.keep_data and formatted):
            shutil.rmtree(self.data_dir)
            formatted = False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._config()
        classpath = f"{libs}/*"
        if not formatted:
            subprocess.run(
                [
                    java,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    uuid.uuid4().hex[:22],
                    "-c",
                    str(config),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        log_file = (self.data_dir / "broker.log").open("wb")
        self._process = subprocess.Popen(
            [java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-cp", classpath, "kafka.Kafka", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Kafka exited; see {self.data_dir / 'broker.log'}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Kafka did not listen on {self.bootstrap} within {timeout} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
