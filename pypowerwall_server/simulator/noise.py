"""Deterministic noise: a pure function of (seed, channel, time).

The model asks "how cloudy is it at t?" rather than drawing from a random stream, so the
value at a given simulated instant does not depend on how often anyone sampled before.
"""

from __future__ import annotations

import math
import zlib

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def channel_key(seed: int, channel: str) -> int:
    """A 64-bit key for one named noise source of one site."""
    return _splitmix64((seed & _MASK64) ^ (zlib.crc32(channel.encode()) << 32))


def uniform(key: int, index: int) -> float:
    """Hash (key, index) to a float in [0, 1)."""
    return _splitmix64(key ^ _splitmix64(index & _MASK64)) / 2.0**64


def smooth(key: int, t: float, period_s: float) -> float:
    """Value noise in [0, 1): random knots every `period_s`, cosine-interpolated."""
    position = t / period_s
    index = math.floor(position)
    fraction = position - index
    weight = (1.0 - math.cos(math.pi * fraction)) / 2.0
    return uniform(key, index) * (1.0 - weight) + uniform(key, index + 1) * weight


def jitter(key: int, t: float, period_s: float, amplitude: float) -> float:
    """Smooth noise centred on 0 in [-amplitude, amplitude)."""
    return (smooth(key, t, period_s) * 2.0 - 1.0) * amplitude
