"""CSV versions of the history answers (format=csv): one header row, one row per bucket,
point or period; nested statistics flattened as site_w_mean, site_w_min, ..."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any


def rows(items: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    out = io.StringIO()
    names = list(columns if columns is not None else (items[0] if items else {}))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for item in items:
        writer.writerow(["" if item.get(n) is None else item[n] for n in names])
    return out.getvalue()


def energy(body: Mapping[str, Any]) -> str:
    buckets = body["buckets"]
    return rows(buckets, list(buckets[0]) if buckets else ["start", "end"])


def power(points: Sequence[Mapping[str, Any]]) -> str:
    flat: list[dict[str, Any]] = []
    for point in points:
        row: dict[str, Any] = {}
        for key, value in point.items():
            if isinstance(value, Mapping) or (value is None and key.endswith(("_w", "_pct"))):
                for stat in ("mean", "min", "max"):
                    row[f"{key}_{stat}"] = value[stat] if value else None
            else:
                row[key] = value
        flat.append(row)
    return rows(flat)
