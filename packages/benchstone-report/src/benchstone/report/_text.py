"""Small formatting rules shared by every report format."""

from __future__ import annotations

from typing import Any

from benchstone.store import Evaluation

SPARKS = "▁▂▃▄▅▆▇█"


def short(sha: str | None) -> str:
    return sha[:8] if sha else "-"


def percent(value: float) -> str:
    return f"{value:+.1%}"


def effect_text(details: dict[str, Any]) -> str:
    """``+3.2% [+1.0%, +5.1%]`` from a verdict's details (+ = better), or ``-``."""
    effect = details.get("effect")
    if not isinstance(effect, int | float):
        return "-"
    text = percent(float(effect))
    ci = details.get("effect_ci")
    if (
        isinstance(ci, list | tuple)
        and len(ci) == 2
        and all(isinstance(v, int | float) for v in ci)
    ):
        text += f" [{percent(float(ci[0]))}, {percent(float(ci[1]))}]"
    return text


def verdict_reason(evaluation: Evaluation) -> str:
    return (evaluation.reason or "-").replace("\n", " ")


def sparkline(values: list[float]) -> str:
    """One block character per value, scaled between the smallest and largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[len(SPARKS) // 2] * len(values)
    scale = (len(SPARKS) - 1) / (high - low)
    return "".join(SPARKS[round((v - low) * scale)] for v in values)
