"""The peer: upstream pypowerwall-server (PyPI) in its own virtualenv inside the work
directory. Its import name `app` never meets ours: it runs from its own interpreter.

Started as its console script `pypowerwall-server` (app.main:cli → uvicorn "app.main:app"),
configured by environment: PW_HOST=127.0.0.1:<port>, PW_GW_PWD (TEDAPI mode), PW_PORT,
PW_BIND_ADDRESS, PW_CACHE_EXPIRE. REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are removed from the
PEER's environment only: requests lets them override TEDAPI's session.verify=False, and the
simulator's certificate is self-signed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.procs import Child, Children
from benchmarks.servers import clean_env
from benchmarks.simproc import SimGateway

PEER_PACKAGE = "pypowerwall-server"
PEER_VERSION = "0.13.0"
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def peer_script(venv: Path) -> Path:
    return venv / "bin" / "pypowerwall-server"


def installed_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    code = f"from importlib.metadata import version; print(version({PEER_PACKAGE!r}))"
    # -I and cwd=venv: run from the repo, importlib.metadata would find OUR egg-info instead.
    done = subprocess.run(
        [str(python), "-I", "-c", code], capture_output=True, text=True, check=False, cwd=venv
    )
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_peer(work: Path, say: Callable[[str], None]) -> Path:
    """The peer's virtualenv, created and installed on first use (then reused)."""
    venv = work / "peer-venv"
    if installed_version(venv) == PEER_VERSION:
        return venv
    log_path = work / "logs" / "peer-install.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"installing {PEER_PACKAGE}=={PEER_VERSION} into {venv} (log: {log_path})")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    with log_path.open("wb") as log:
        subprocess.run(
            [*pip, f"{PEER_PACKAGE}=={PEER_VERSION}"],
            check=True,
            timeout=600,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return venv


def peer_env(gateway: SimGateway, port: int, interval: float) -> dict[str, str]:
    env = {k: v for k, v in clean_env().items() if k not in CA_VARIABLES}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env.update(
        PW_HOST=gateway.host,
        PW_GW_PWD=gateway.gw_pwd,
        PW_PORT=str(port),
        PW_BIND_ADDRESS="127.0.0.1",
        PW_CACHE_EXPIRE=str(int(interval)),
    )
    return env


def start_peer(
    children: Children, venv: Path, work: Path, gateway: SimGateway, port: int, interval: float
) -> Child:
    cwd = work / "peer-run"  # the peer may write files (auth, history) where it runs
    cwd.mkdir(parents=True, exist_ok=True)
    return children.start(
        "peer", [str(peer_script(venv))], env=peer_env(gateway, port, interval), cwd=cwd
    )
