"""docs/manifest.md against the schema: every key documented with its type and default,
every documented key real, every meaning opening with the key's doc line.

The schema is the spec dataclasses' fields (``PROJECT_KEYS``, ``BENCHMARK_KEYS``), the
same rows the loader parses with, so a key added in code without docs (or the reverse)
fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchstone.runner._manifest import BENCHMARK_KEYS, PROJECT_KEYS, SLURM_KEYS
from benchstone.runner._manifest_table import Key

DOCS = Path(__file__).resolve().parents[3] / "docs" / "manifest.md"


def _rows(heading: str) -> dict[str, tuple[str, str, str]]:
    """The ``| key | type | default | meaning |`` table under ``heading``, by key."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    rows: dict[str, tuple[str, str, str]] = {}
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if in_table:
                break
            continue
        in_table = True
        if set(line) <= set("|-: "):
            continue  # the header's rule
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if cells[0] == "key":
            continue
        assert len(cells) == 4, f"{DOCS}: row needs 4 cells: {line}"
        name = cells[0].strip("`")
        assert name not in rows, f"{DOCS}: {name!r} documented twice under {heading}"
        rows[name] = (cells[1], cells[2], cells[3])
    return rows


TABLES = [
    ("## `[project]`", PROJECT_KEYS),
    ("## `[[benchmarks]]`", BENCHMARK_KEYS),
    ("## `[slurm]`", SLURM_KEYS),
]


@pytest.mark.parametrize(("heading", "schema"), TABLES)
def test_every_key_is_documented_and_every_documented_key_exists(
    heading: str, schema: tuple[tuple[str, Key], ...]
) -> None:
    documented = set(_rows(heading))
    real = {name for name, _ in schema}
    assert real - documented == set(), f"keys missing from {DOCS} under {heading}"
    assert documented - real == set(), f"documented under {heading} but not in the schema"


@pytest.mark.parametrize(("heading", "schema"), TABLES)
def test_types_defaults_and_doc_lines_match_the_schema(
    heading: str, schema: tuple[tuple[str, Key], ...]
) -> None:
    rows = _rows(heading)
    for name, row in schema:
        if name not in rows:
            continue  # reported by the test above
        type_cell, default_cell, meaning = rows[name]
        assert (name, type_cell) == (name, row.kind.doc)
        assert (name, default_cell) == (name, row.default_text)
        assert meaning.startswith(row.doc), (name, row.doc, meaning)


def test_every_key_has_a_one_line_doc() -> None:
    for name, row in PROJECT_KEYS + BENCHMARK_KEYS + SLURM_KEYS:
        assert row.doc and "\n" not in row.doc and row.doc.endswith("."), name
