"""Parse library call names such as "poll('/api/meters/aggregates')" or
"grid_status('numeric')" into a method path and literal arguments.

Call names are the vocabulary shared by the poller, the Snapshot and the legacy transforms
(they are spelled as in the legacy contract). Parsing uses `ast` and accepts literals only,
so a call name can never run arbitrary code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class ParsedCall:
    target: tuple[str, ...]  # attribute path on the Powerwall object, e.g. ("tedapi", "get_config")
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]


@cache
def parse_call(name: str) -> ParsedCall:
    """Raise ValueError for anything but `a.b(literal, key=literal)`."""
    try:
        node = ast.parse(name, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a call name: {name!r}") from exc
    if not isinstance(node, ast.Call):
        raise ValueError(f"not a call name: {name!r}")
    target = _attribute_path(node.func)
    args = tuple(ast.literal_eval(arg) for arg in node.args)
    kwargs = tuple((kw.arg or "", ast.literal_eval(kw.value)) for kw in node.keywords)
    if any(not key for key, _ in kwargs):
        raise ValueError(f"no **kwargs in call names: {name!r}")
    return ParsedCall(target, args, kwargs)


def _attribute_path(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*_attribute_path(node.value), node.attr)
    raise ValueError("call target must be a dotted name")


def invoke(obj: object, call: ParsedCall) -> Any:
    """Call `call` on `obj` (e.g. a pypowerwall.Powerwall)."""
    target: Any = obj
    for attr in call.target:
        if attr.startswith("_"):
            raise ValueError("private attributes are not callable by name")
        target = getattr(target, attr)
    return target(*call.args, **dict(call.kwargs))
