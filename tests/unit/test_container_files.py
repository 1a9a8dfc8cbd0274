"""The Dockerfile and compose files agree with the code: every file they copy exists, every
variable they set is a known setting with a valid value, the ports are the defaults, the
image installs only the built wheel and runs as a non-root user, and the health check is the
command tests/integration/test_wheel_install.py runs. The Dockerfile passes hadolint."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pypowerwall_server.settings import ServerConfig, load_settings
from pypowerwall_server.settings.advice import KNOWN_ENV
from tests import container_files as cf
from tests.conftest import require_tool

# Variables of the image that are not settings: the virtualenv and Python's own switches.
PLATFORM_ENV = {"VIRTUAL_ENV", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
DEFAULTS = ServerConfig()
GATEWAY_ENV = {"PW_HOST": "192.168.91.1", "PW_GW_PWD": "ABCDEFGHIJ"}  # any valid gateway


def test_every_file_the_build_copies_exists_and_the_context_admits_it() -> None:
    ignored = (cf.ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    admitted = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    copies = [item for item in cf.instructions() if item.keyword == "COPY"]
    local = [item for item in copies if not item.arguments.startswith("--from=")]
    assert local, "the build stage copies the sources"
    for item in local:
        *sources, _destination = shlex.split(item.arguments)
        for source in sources:
            assert (cf.ROOT / source).exists(), f"COPY {source}: no such file"
            assert source.rstrip("/") in admitted, f"COPY {source}: excluded by .dockerignore"


def test_the_final_stage_installs_only_the_built_wheel_as_a_non_root_user() -> None:
    stages = {item.stage for item in cf.instructions()} - {-1}  # -1: ARGs before FROM
    assert len(stages) == 2, "multi-stage: build, then run"
    final = cf.final_stage()
    (copy,) = [item for item in final if item.keyword == "COPY"]
    assert copy.arguments.startswith("--from=build "), "only the build stage's output comes in"
    installs = [item.arguments for item in final if "pip install" in item.arguments]
    assert len(installs) == 1 and ".whl" in installs[0], installs
    assert "-e " not in installs[0] and " ." not in installs[0], "the wheel, not the sources"
    user = cf.last("USER").arguments
    assert user.split(":")[0] not in ("0", "root"), user
    assert cf.last("FROM").arguments.startswith("${PYTHON_IMAGE}")
    base = [item.arguments for item in cf.instructions() if item.keyword == "ARG"]
    assert any("python:3.11-slim" in argument for argument in base), base


def test_image_variables_are_known_settings_with_valid_values() -> None:
    env = cf.environment()
    settings_env = {key: value for key, value in env.items() if key not in PLATFORM_ENV}
    assert set(settings_env) <= KNOWN_ENV, set(settings_env) - KNOWN_ENV
    assert settings_env["PW_AUTHPATH"] == "/auth"
    settings = load_settings([], {**settings_env, **GATEWAY_ENV})
    assert settings.gateways[0].authpath == "/auth"
    volumes = cf.last("VOLUME").arguments
    assert '"/auth"' in volumes and f'"{settings.server.data_dir}"' in volumes


def test_exposed_ports_are_the_default_http_and_https_ports() -> None:
    assert cf.exposed_ports() == [DEFAULTS.port, DEFAULTS.https_port] == [8675, 8775]


def test_image_runs_the_installed_command_and_checks_health_with_the_interpreter() -> None:
    assert cf.entrypoint() == ["pypowerwall-server"]
    assert cf.healthcheck() == ["python", "-m", "pypowerwall_server.healthcheck"]
    assert "curl" not in cf.DOCKERFILE.read_text(encoding="utf-8").replace("no curl", "")
    assert cf.last("STOPSIGNAL").arguments == "SIGTERM"


def test_there_is_a_compose_file_for_each_setup() -> None:
    names = {path.name for path in cf.COMPOSE_FILES}
    assert names == {"compose.tedapi.yaml", "compose.cloud.yaml", "compose.multi.yaml"}


@pytest.mark.parametrize("path", cf.COMPOSE_FILES, ids=lambda path: path.name)
def test_compose_service_matches_the_image_and_the_settings(path: Path) -> None:
    services = cf.compose(path)["services"]
    service = services["pypowerwall-server"]
    assert service["container_name"] == "pypowerwall-server"  # docker exec ... in the README
    assert (path.parent / service["build"]["context"] / "Dockerfile").resolve() == cf.DOCKERFILE
    assert "healthcheck" not in service, "the image's HEALTHCHECK is the tested one"
    nofile = service["ulimits"]["nofile"]
    assert nofile["soft"] >= 65536 and nofile["hard"] >= nofile["soft"]
    env = {key: cf.substituted(str(value)) for key, value in service["environment"].items()}
    assert set(env) <= KNOWN_ENV, set(env) - KNOWN_ENV
    image_env = {k: v for k, v in cf.environment().items() if k not in PLATFORM_ENV}
    mounts = _mounted_files(path, service)
    if "PW_CONFIG" in env:  # the mounted config file is what the container reads
        env["PW_CONFIG"] = str(mounts[env["PW_CONFIG"]])
    settings = load_settings([], {**image_env, **env})
    assert settings.gateways, "the example configures at least one gateway"
    _assert_ports(service, settings.server)


def _mounted_files(path: Path, service: dict[str, object]) -> dict[str, Path]:
    """container path → local file, for bind mounts of files; each must exist."""
    mounts = {}
    volumes = service.get("volumes", [])
    assert isinstance(volumes, list)
    for volume in volumes:
        source, target = str(volume).split(":")[:2]
        if source.startswith("."):
            local = path.parent / source
            assert local.is_file(), f"{path.name}: {source} does not exist"
            mounts[target] = local
        else:
            assert source in cf.compose(path)["volumes"], f"{source}: undeclared named volume"
            assert target in ("/auth", "/data"), f"{target}: not a volume of the image"
    return mounts


def _assert_ports(service: dict[str, object], server: ServerConfig) -> None:
    if service.get("network_mode") == "host":
        assert "ports" not in service, "host networking ignores port mappings"
        assert server.port == DEFAULTS.port
        return
    ports = service["ports"]
    assert isinstance(ports, list)
    pairs = {tuple(int(part) for part in str(entry).split(":")[-2:]) for entry in ports}
    expected = {(server.port, server.port)}
    if server.https:
        expected.add((server.https_port, server.https_port))
    assert pairs == expected
    assert all(container in cf.exposed_ports() for _, container in pairs)


def test_dockerfile_passes_hadolint() -> None:
    beside = Path(sys.executable).parent / "hadolint"  # the dev extras install it there
    hadolint = str(beside) if beside.exists() else require_tool("hadolint", "pip install -e .[dev]")
    done = subprocess.run(
        [hadolint, "--no-color", str(cf.DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_setup_in_the_container_writes_into_the_auth_volume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`docker exec -it pypowerwall-server pypowerwall-server --setup` with the image's ENV."""
    from pypowerwall_server import cli

    made: list[str] = []
    monkeypatch.setattr(cli.os, "makedirs", lambda folder, exist_ok: made.append(folder))
    commands: list[list[str]] = []
    image_env = cf.environment()
    code = cli.run_setup(
        "cloud", None, None, image_env, lambda command: commands.append(command) or 0
    )
    assert code == 0 and made == ["/auth"]
    (command,) = commands
    assert command[1:] == ["-m", "pypowerwall", "setup", "-cloud", "-authpath", "/auth"]
