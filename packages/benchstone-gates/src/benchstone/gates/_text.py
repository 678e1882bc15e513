"""Number formatting shared by the reason sentences, so every verdict reads alike."""

from __future__ import annotations

WORSE = "significantly worse"  # how every REJECT of a regression begins
NO_GAIN = "no significant improvement"  # how every other REJECT begins


def runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


def percent(value: float) -> str:
    return f"{value:+.2%}"


def number(value: float) -> str:
    return f"{value:.6g}"


def probability(value: float) -> str:
    return f"{value:.3g}"
