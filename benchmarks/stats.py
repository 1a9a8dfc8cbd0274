"""Small pure helpers: percentiles, medians, ratios, intervals."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50.0)


def geometric_mean(values: Sequence[float]) -> float | None:
    """The mean of ratios (no one cell weighs more because its numbers are larger)."""
    if not values or min(values) <= 0:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratio(ours: float | None, other: float | None) -> float | None:
    """ours / other, or None when either is missing or other is 0."""
    if ours is None or other is None or other == 0:
        return None
    return ours / other


def intervals(times: Iterable[float]) -> list[float]:
    """Gaps between consecutive distinct timestamps."""
    ordered = sorted(set(times))
    return [b - a for a, b in itertools.pairwise(ordered)]


def diff_counts(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Per-key increase (a key missing before counts from 0); zero increases are dropped."""
    out = {k: v - before.get(k, 0) for k, v in after.items()}
    return {k: v for k, v in out.items() if v > 0}


def per_minute(counts: Mapping[str, int], seconds: float) -> dict[str, float]:
    if seconds <= 0:
        return {}
    return {k: v * 60.0 / seconds for k, v in counts.items()}
