"""Reading the Dockerfile and compose files the way Docker does, for the tests that check them
(tests/unit/test_container_files.py) and run their commands (tests/integration/
test_wheel_install.py). No Docker engine runs on the test machines."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILES = sorted((ROOT / "docker").glob("compose*.yaml"))


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "COPY"
    arguments: str  # the rest of the logical line, continuations joined
    stage: int  # 0-based index of the FROM stage it belongs to


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined."""
    result: list[Instruction] = []
    stage, pending = -1, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical, pending = pending + stripped, ""
        keyword, _, arguments = logical.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        result.append(Instruction(keyword, arguments.strip(), stage))
    return result


def exec_form(arguments: str) -> list[str]:
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD; shell form is not used here."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), arguments
    return value


def last(keyword: str, path: Path = DOCKERFILE) -> Instruction:
    found = [item for item in instructions(path) if item.keyword == keyword]
    assert found, f"no {keyword} in {path.name}"
    return found[-1]


def final_stage(path: Path = DOCKERFILE) -> list[Instruction]:
    items = instructions(path)
    return [item for item in items if item.stage == items[-1].stage]


def entrypoint() -> list[str]:
    return exec_form(last("ENTRYPOINT").arguments)


def healthcheck() -> list[str]:
    """The HEALTHCHECK's command, without its --interval/--timeout options."""
    _, separator, command = last("HEALTHCHECK").arguments.partition("CMD ")
    assert separator, "HEALTHCHECK must use CMD"
    return exec_form(command)


def environment(path: Path = DOCKERFILE) -> dict[str, str]:
    """ENV of the final stage (KEY=value pairs, as the running container sees them)."""
    result: dict[str, str] = {}
    for item in final_stage(path):
        if item.keyword == "ENV":
            for pair in shlex.split(item.arguments):
                key, equals, value = pair.partition("=")
                assert equals, f"use ENV KEY=value, got {pair!r}"
                result[key] = re.sub(r"\$(\w+)", "", value)  # $PATH: the base image's part
    return result


def exposed_ports(path: Path = DOCKERFILE) -> list[int]:
    return [int(port) for port in last("EXPOSE", path).arguments.split()]


def compose(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def substituted(value: str, fill: str = "x") -> str:
    """Compose's ${VAR:-default} → default, ${VAR:?message} and ${VAR} → fill."""
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{\w+(:\?[^}]*)?\}", fill, value)
