"""A configuration document read as untrusted input: a regular file of bounded size, parsed
as JSON or YAML with nesting depth and YAML alias expansion bounded, every failure a
`DocumentProblem` (one line, never a traceback, never the file's text)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from typing import Any

import yaml

MAX_CONFIG_BYTES = 256 * 1024  # a real configuration is a few KB
MAX_DEPTH = 32  # server/gateways/entry/value is 4 levels
MAX_YAML_NODES = 20_000  # after alias expansion (a billion laughs expands to 10^9)

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class DocumentProblem(Exception):
    """Why a document cannot be used, as one short phrase."""


def read_config_text(path: str) -> str:
    """The file's text; only a regular file (never a FIFO, device or folder) of at most
    MAX_CONFIG_BYTES, opened without blocking."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise DocumentProblem(f"cannot read '{path}': {exc.strerror}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        what = "Is a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise DocumentProblem(f"cannot read '{path}': {what}")
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise DocumentProblem(f"cannot read '{path}': over {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentProblem(f"cannot read '{path}': not UTF-8 text") from None


def load_json(text: str, **options: Any) -> Any:
    """json.loads with the depth bounded; ValueError (as json's) for invalid JSON."""
    if len(text) > MAX_CONFIG_BYTES:
        raise DocumentProblem(f"over {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        data = json.loads(text, **options)
    except RecursionError:
        raise DocumentProblem(f"nested deeper than {MAX_DEPTH} levels") from None
    check_depth(data)
    return data


def load_yaml(text: str, loader: type[yaml.SafeLoader]) -> Any:
    """yaml.load with `loader` once a first pass over the events showed the document's
    depth and its size with every alias expanded to be within bounds."""
    _check_events(yaml.parse(text, Loader=_Loader))
    try:
        return yaml.load(text, Loader=loader)
    except RecursionError:  # pragma: no cover - the event pass bounds the depth first
        raise DocumentProblem(f"nested deeper than {MAX_DEPTH} levels") from None


def _check_events(events: Iterator[yaml.Event]) -> None:
    """Bound the depth, and the node count with every alias expanded to what it names."""
    open_sizes: list[int] = []  # expanded node counts of the open collections, innermost last
    open_anchors: list[str | None] = []
    anchors: dict[str, int] = {}
    total = 0
    for event in events:
        if isinstance(event, _CLOSING):
            size = open_sizes.pop()
            anchor = open_anchors.pop()
            if anchor is not None:
                anchors[anchor] = size
            if open_sizes:
                open_sizes[-1] += size
            continue
        if isinstance(event, _OPENING):
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            if len(open_sizes) > MAX_DEPTH:
                raise DocumentProblem(f"nested deeper than {MAX_DEPTH} levels")
            total += 1
            continue
        if isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                anchors[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = anchors.get(event.anchor or "", 1)
        else:
            continue
        total += size
        if open_sizes:
            open_sizes[-1] += size
        if total > MAX_YAML_NODES:
            raise DocumentProblem(f"more than {MAX_YAML_NODES} values once aliases expand")


def check_depth(data: Any) -> None:
    """DocumentProblem when `data` nests deeper than MAX_DEPTH (walked without recursion)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise DocumentProblem(f"nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)
