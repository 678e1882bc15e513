"""Seeds for repetitions: the manifest's baseline seeds, or fresh ones from a meta-seed.

A fresh run set is identified by one 63-bit meta-seed; its per-repetition seeds are derived
from it deterministically, so a run set can be reproduced from the meta-seed recorded on its
rows and on the baseline pointer, and two run sets with different meta-seeds never share a
seed sequence by construction.
"""

from __future__ import annotations

import hashlib
import secrets

from benchstone.api._errors import ApiError

META_SEED_BITS = 63
SEED_BITS = 31  # fits every common RNG's seed type (numpy, Julia, C rand) without surprises
SEED_SETS = ("baseline", "fresh")


def new_meta_seed() -> int:
    """A uniformly random 63-bit meta-seed (the OS CSPRNG, so agents cannot predict it)."""
    return secrets.randbits(META_SEED_BITS)


def check_meta_seed(meta_seed: int) -> int:
    if isinstance(meta_seed, bool) or not isinstance(meta_seed, int):
        raise ApiError(f"meta-seed must be an integer, got {meta_seed!r}")
    if not 0 <= meta_seed < 2**META_SEED_BITS:
        raise ApiError(
            f"meta-seed {meta_seed} is out of range; it must be in [0, 2**{META_SEED_BITS})"
        )
    return meta_seed


def fresh_seeds(meta_seed: int, count: int) -> tuple[int, ...]:
    """Seed i = the first 31 bits of sha256("benchstone-seed-v1:<meta_seed>:<i>")."""
    check_meta_seed(meta_seed)
    seeds = []
    for index in range(count):
        material = f"benchstone-seed-v1:{meta_seed}:{index}".encode()
        word = int.from_bytes(hashlib.sha256(material).digest()[:4], "big")
        seeds.append(word >> (32 - SEED_BITS))
    return tuple(seeds)


def plan_seeds(
    *,
    seed_set: str,
    baseline_seeds: tuple[int, ...],
    repetitions: int,
    count: int | None,
    meta_seed: int | None,
) -> tuple[tuple[int, ...], int | None]:
    """Return (seeds, meta_seed) for one dispatch.

    ``baseline``: the manifest's baseline seeds (the first ``count`` of them); no meta-seed.
    ``fresh``: ``count`` (default: the manifest's repetitions) seeds from ``meta_seed``, a new
    random one when not given.
    """
    if seed_set not in SEED_SETS:
        raise ApiError(f"seed set {seed_set!r} is unknown; use 'baseline' or 'fresh'")
    if count is not None and count < 1:
        raise ApiError(f"-n must be at least 1, got {count}")
    if seed_set == "baseline":
        if meta_seed is not None:
            raise ApiError(
                "--meta-seed applies to the fresh seed set only; "
                "the baseline seed set uses the manifest's baseline_seeds"
            )
        if not baseline_seeds:
            raise ApiError("the manifest declares no baseline_seeds for this benchmark")
        wanted = len(baseline_seeds) if count is None else count
        if wanted > len(baseline_seeds):
            raise ApiError(
                f"-n {wanted} asks for more baseline seeds than the manifest's "
                f"{len(baseline_seeds)}; add baseline_seeds or lower -n"
            )
        return tuple(baseline_seeds[:wanted]), None
    chosen = new_meta_seed() if meta_seed is None else check_meta_seed(meta_seed)
    wanted = repetitions if count is None else count
    return fresh_seeds(chosen, wanted), chosen
