"""The correctness tier: a content hash either matches the frozen reference or not."""

from __future__ import annotations

from ._errors import GateError
from ._verdict import Verdict


def _check_digest(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise GateError(f"{name} {value!r} must be a digest string such as 'sha256:...' or None")
    return value


def _algorithm(digest: str) -> str:
    return digest.split(":", 1)[0] if ":" in digest else "(none)"


def check_artifact(reference_digest: str | None, candidate_digest: str | None) -> Verdict:
    """PASS iff the candidate's artifact digest equals the frozen reference's, exactly.

    No tolerance and no normalisation: the runner is told its output must be
    byte-deterministic, and this is where that promise is held.
    """
    reference = _check_digest(reference_digest, "reference_digest")
    candidate = _check_digest(candidate_digest, "candidate_digest")
    fields = {
        "policy": "artifact",
        "reference_digest": reference,
        "candidate_digest": candidate,
    }
    if reference is None:
        return Verdict(
            kind="NO_REFERENCE",
            reason="no reference artifact is frozen for this benchmark; freeze one first",
            **fields,
        )
    if candidate is None:
        return Verdict(
            kind="NEEDS_MORE_DATA",
            reason="the candidate has no artifact digest yet; run the benchmark to produce one",
            **fields,
        )
    if candidate == reference:
        return Verdict(
            kind="PASS",
            reason=f"the candidate artifact matches the frozen reference {reference}",
            **fields,
        )
    note = ""
    if _algorithm(candidate) != _algorithm(reference):
        note = (
            f" (different algorithms, {_algorithm(candidate)} vs {_algorithm(reference)}: "
            "digests of one content under two algorithms never match)"
        )
    return Verdict(
        kind="FAIL",
        reason=f"the candidate artifact {candidate} differs from the frozen reference "
        f"{reference}{note}",
        **fields,
    )
