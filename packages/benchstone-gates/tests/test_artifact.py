"""check_artifact: the correctness tier's content-hash verdicts."""

from __future__ import annotations

import hashlib

import pytest

from benchstone.gates import GateError, check_artifact


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_equal_digests_pass() -> None:
    reference = digest(b"[1, 2, 3]\n")
    verdict = check_artifact(reference, digest(b"[1, 2, 3]\n"))
    assert verdict.kind == "PASS"
    assert verdict.policy == "artifact"
    assert verdict.reference_digest == verdict.candidate_digest == reference
    assert reference in verdict.reason


def test_one_byte_of_difference_fails() -> None:
    reference, candidate = digest(b"[1, 2, 3]\n"), digest(b"[1, 2, 3]")
    verdict = check_artifact(reference, candidate)
    assert verdict.kind == "FAIL"
    assert reference in verdict.reason and candidate in verdict.reason
    assert verdict.to_dict()["candidate_digest"] == candidate


def test_different_algorithms_fail_with_an_explanation() -> None:
    verdict = check_artifact("sha256:" + "0" * 64, "blake3:" + "0" * 64)
    assert verdict.kind == "FAIL"
    assert "different algorithms" in verdict.reason


def test_missing_reference_and_missing_candidate() -> None:
    assert check_artifact(None, digest(b"x")).kind == "NO_REFERENCE"
    assert check_artifact(None, None).kind == "NO_REFERENCE"
    assert check_artifact(digest(b"x"), None).kind == "NEEDS_MORE_DATA"


@pytest.mark.parametrize(
    ("reference", "candidate", "message"),
    [("", None, "reference_digest ''"), ("sha256:aa", 5, "candidate_digest 5")],
)
def test_bad_digests(reference: object, candidate: object, message: str) -> None:
    with pytest.raises(GateError, match=message):
        check_artifact(reference, candidate)  # type: ignore[arg-type]
