"""Whether a baseline and a candidate were measured on the same kind of host.

Why the gate asks: a timing taken on another CPU model, core count, kernel or Python is a
different experiment, and its difference from the baseline is the machine's, not the
code's. Every row records its host fingerprint (``runner._fingerprint``): the identity
digest in ``host_identity`` and the identity itself in ``fingerprint``. Rows whose
identities differ are not compared; the verdict is NEEDS_MORE_DATA naming the difference
and what to run, unless the benchmark sets ``compare_across_hosts = true``. The
fingerprint's conditions (load, governor) never split a comparison. Rows from before
fingerprints were recorded carry no identity and are compared as they always were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchstone.runner import BenchmarkSpec
    from benchstone.store import Run


def host_refusal(
    project: str, spec: BenchmarkSpec, baseline: Sequence[Run], candidates: Sequence[Run]
) -> str | None:
    """Why ``baseline`` and ``candidates`` cannot be compared across hosts, or None.

    None also when the benchmark opts out (``compare_across_hosts``) or a side has no
    fingerprinted row.
    """
    if spec.compare_across_hosts:
        return None
    base, cand = _identities(baseline), _identities(candidates)
    if not base or not cand or (len(base) == 1 and base.keys() == cand.keys()):
        return None
    fix = (
        "measure both on one host (run the candidate where the baseline was measured, or "
        f"`bench baseline establish {project} {spec.name}` on this one), or set "
        f"compare_across_hosts = true for benchmark '{spec.name}' if its metric does not "
        "depend on the machine"
    )
    for side, found in (("baseline", base), ("candidate", cand)):
        if len(found) > 1:
            hosts = "; ".join(describe(identity) for identity in found.values())
            return f"the {side} runs were measured on {len(found)} different hosts ({hosts}); {fix}"
    # Only a refusal needs the fingerprint module: the common, same-host path stays lean.
    from benchstone.runner import identity_difference

    (base_identity,) = base.values()
    (cand_identity,) = cand.values()
    difference = identity_difference(base_identity, cand_identity) or "their identity digests"
    return (
        f"baseline measured on {describe(base_identity)}, candidate on "
        f"{describe(cand_identity)}; they differ in {difference}; {fix}"
    )


def describe(identity: dict[str, Any]) -> str:
    """``host NAME (CPU, N cores, kernel K, Python V)`` from a fingerprint's identity."""
    return (
        f"host {identity.get('hostname', '?')} ({identity.get('cpu_model', '?')}, "
        f"{identity.get('cpu_count', '?')} cores, kernel {identity.get('kernel', '?')}, "
        f"{identity.get('python', '?')})"
    )


def _identities(runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """identity digest -> identity, over the rows that recorded one (in row order)."""
    found: dict[str, dict[str, Any]] = {}
    for run in runs:
        if run.host_identity is None:
            continue
        identity = run.fingerprint.get("identity") if run.fingerprint else None
        found.setdefault(run.host_identity, identity if isinstance(identity, dict) else {})
    return found
