"""Result bundles: how one repetition measured on a compute node travels to the submitter.

A node worker never touches the store (SQLite over a network filesystem is not safe); it
writes one bundle per repetition into the spool directory on the shared filesystem, and
the submitting side, the one writer, reads and ingests it. The layout (docs/cluster.md)::

    <spool>/<job>/<name>.bundle/      a directory, appearing atomically by rename
        result.json                   the harness's result document for the repetition
        measurements.json             wall, cpu, peak rss, instructions, isolation, host, node
        stdout.tail, stderr.tail      the last LOG_TAIL_BYTES of each log
        artifact                      the artifact bytes (absent when there is none)
        manifest.json                 written last: format, job, name, labels, nonce id,
                                      every part's size and sha256, and a seal over it all

``labels`` are what the repetition is beyond its name: a side-by-side window's bundle
says its window and arm there, under the seal, so a baseline bundle cannot be relabelled
as a candidate without the job's nonce.

The bundle is assembled in ``<spool>/<job>/.tmp-<name>-<random>/``, every file fsynced, the
directory fsynced, then renamed to its final name and the job directory fsynced; a rename
onto an existing bundle fails, so the first bundle of a repetition is the only one. The
seal is HMAC-SHA256 keyed by the job's nonce (a secret the submitter makes per job), so a
bundle of another job, or of another submission that reused a spool, is *foreign*; a part
that is missing or shorter than the manifest says is *torn*; a part whose bytes changed is
a *digest mismatch*. The reader refuses each with a RunnerError naming which.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import socket
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchstone.hasher import HasherError, digest
from benchstone.runner._errors import RunnerError

BUNDLE_FORMAT = "benchstone-bundle-v1"
BUNDLE_SUFFIX = ".bundle"
#: How much of each log's end a bundle keeps: enough for an error row's stderr tail.
LOG_TAIL_BYTES = 64 * 1024
#: The artifact is already size-capped by the run; this bounds what a node can make the
#: submitter ingest even from a worker that was not.
ARTIFACT_CAP_BYTES = 256 * 1024 * 1024
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: Every part and the most bytes the reader accepts for it, checked before it is opened,
#: so a damaged manifest cannot make the submitter read a huge file into memory.
_PART_CAPS = {
    "result.json": 16 * 1024 * 1024,
    "measurements.json": 1024 * 1024,
    "stdout.tail": LOG_TAIL_BYTES,
    "stderr.tail": LOG_TAIL_BYTES,
    "artifact": ARTIFACT_CAP_BYTES,
}
_PARTS = tuple(_PART_CAPS)
_REQUIRED = frozenset(_PARTS) - {"artifact"}
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Measurements:
    """What the harness measured around one repetition on the node, from the outside."""

    wall_seconds: float
    cpu_seconds: float | None
    peak_rss_bytes: int | None
    instructions: int | None
    #: The sandbox level the repetition ran at (e.g. ``bwrap``, ``fallback``, ``none``).
    isolation: str
    #: The host's identity and conditions, as the harness fingerprints it (JSON object).
    host_fingerprint: Mapping[str, Any] = field(default_factory=dict)
    #: The node the repetition ran on; side-by-side windows check it.
    node: str = field(default_factory=socket.gethostname)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["host_fingerprint"] = dict(self.host_fingerprint)
        return doc

    @classmethod
    def from_json(cls, doc: object, where: str) -> Measurements:
        if not isinstance(doc, dict):
            raise RunnerError(f"{where}: measurements.json is not a JSON object")
        kinds: dict[str, tuple[type, ...]] = {
            "wall_seconds": (int, float),
            "cpu_seconds": (int, float, type(None)),
            "peak_rss_bytes": (int, type(None)),
            "instructions": (int, type(None)),
            "isolation": (str,),
            "host_fingerprint": (dict,),
            "node": (str,),
        }
        for key, kind in kinds.items():
            value = doc.get(key)
            if key not in doc or isinstance(value, bool) or not isinstance(value, kind):
                names = " or ".join("null" if k is type(None) else k.__name__ for k in kind)
                raise RunnerError(f"{where}: measurements.json key {key!r} must be {names}")
        return cls(**{key: doc[key] for key in kinds})


@dataclass(frozen=True)
class Bundle:
    """A validated bundle: every part present, every digest right, sealed by this job."""

    #: ``<job>/<name>``: the same for every read of this bundle and unique in the spool
    #: (a second bundle of the repetition cannot replace it), so the ingester keys on it.
    bundle_id: str
    job: str
    name: str
    path: Path
    #: The manifest's seal: a content id over every part, for a cross-check on ingest.
    digest: str
    result: dict[str, Any]
    measurements: Measurements
    stdout_tail: str
    stderr_tail: str
    #: Inside the bundle; open it, or copy it into the store, from here.
    artifact_path: Path | None
    artifact_digest: str | None
    artifact_bytes: int | None
    #: Sealed labels (a window's ``window`` and ``arm``); empty when none were written.
    labels: Mapping[str, str] = field(default_factory=dict)


def new_nonce() -> str:
    """A fresh per-job secret; the submitter keeps it, its workers seal with it."""
    return secrets.token_hex(32)


def _nonce_id(nonce: str) -> str:
    """What a manifest says about its nonce: enough to tell foreign from damaged, no more."""
    return hashlib.sha256(b"benchstone-bundle-nonce\0" + nonce.encode()).hexdigest()[:16]


def _seal(nonce: str, body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return "hmac-sha256:" + hmac.new(nonce.encode(), text, hashlib.sha256).hexdigest()


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise RunnerError(
            f"bundle {kind} {value!r} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"
        )
    return value


def bundle_path(spool: Path, job: str, name: str) -> Path:
    """Where the bundle of repetition ``name`` of ``job`` appears."""
    return Path(spool) / _check_name("job", job) / (_check_name("name", name) + BUNDLE_SUFFIX)


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _tail(log: Path | None) -> bytes:
    """The last LOG_TAIL_BYTES of a log file, by seeking: a huge log is never read whole."""
    if log is None:
        return b""
    try:
        with Path(log).open("rb") as src:
            size = os.fstat(src.fileno()).st_size
            src.seek(max(0, size - LOG_TAIL_BYTES))
            return src.read(LOG_TAIL_BYTES)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise RunnerError(f"{log}: cannot read the log for the bundle: {exc.strerror}") from None


def _copy_artifact(source: Path, target: Path) -> None:
    """Copy the artifact without following a link, refusing anything but a regular file."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise RunnerError(
            f"{source}: the artifact cannot be opened without following links: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RunnerError(f"{source}: the artifact is not a regular file")
        if info.st_size > ARTIFACT_CAP_BYTES:
            raise RunnerError(
                f"{source}: the artifact is {info.st_size} bytes, over the bundle cap of "
                f"{ARTIFACT_CAP_BYTES}"
            )
        with target.open("xb") as out:
            copied = 0
            while chunk := src.read(_COPY_CHUNK):
                copied += len(chunk)
                if copied > ARTIFACT_CAP_BYTES:
                    raise RunnerError(f"{source}: the artifact grew past the bundle cap")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())


def _part_digest(path: Path) -> str:
    try:
        return digest(path, "sha256")
    except HasherError as exc:
        raise RunnerError(f"{path}: cannot hash the bundle part: {exc}") from None


def write_bundle(
    spool: Path,
    job: str,
    name: str,
    nonce: str,
    *,
    result: Mapping[str, Any],
    measurements: Measurements,
    artifact: Path | None = None,
    stdout_log: Path | None = None,
    stderr_log: Path | None = None,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Write the bundle of one repetition atomically; returns its final path.

    ``labels`` (short strings) go into the sealed manifest: changing one breaks the seal.

    Raises RunnerError when the repetition already has a bundle: the first one stands.
    """
    final = bundle_path(spool, job, name)
    job_dir = final.parent
    job_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = job_dir / f".tmp-{name}-{secrets.token_hex(6)}"
    tmp.mkdir()
    try:
        _write_file(tmp / "result.json", json.dumps(dict(result), sort_keys=True).encode())
        _write_file(
            tmp / "measurements.json", json.dumps(measurements.to_json(), sort_keys=True).encode()
        )
        _write_file(tmp / "stdout.tail", _tail(stdout_log))
        _write_file(tmp / "stderr.tail", _tail(stderr_log))
        if artifact is not None:
            _copy_artifact(Path(artifact), tmp / "artifact")
        parts = {}
        for part in _PARTS:
            path = tmp / part
            if path.exists():
                parts[part] = {"size": path.stat().st_size, "digest": _part_digest(path)}
        body = {
            "format": BUNDLE_FORMAT,
            "job": job,
            "name": name,
            "nonce_id": _nonce_id(nonce),
            "parts": parts,
        }
        if labels:
            body["labels"] = {str(k): str(v) for k, v in labels.items()}
        manifest = {**body, "seal": _seal(nonce, body)}
        _write_file(tmp / "manifest.json", json.dumps(manifest, sort_keys=True, indent=1).encode())
        _fsync_path(tmp)
        try:
            os.rename(tmp, final)  # onto an existing non-empty directory: ENOTEMPTY/EEXIST
        except OSError as exc:
            if final.exists():
                raise RunnerError(
                    f"{final}: repetition {name} of job {job} already has a bundle; "
                    "the first one stands"
                ) from None
            raise RunnerError(f"{final}: cannot publish the bundle: {exc.strerror}") from None
        _fsync_path(job_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def list_bundles(spool: Path, job: str) -> list[Path]:
    """The published bundles of ``job``, by name; assemblies in progress are not listed."""
    job_dir = Path(spool) / _check_name("job", job)
    if not job_dir.is_dir():
        return []
    return sorted(
        p
        for p in job_dir.iterdir()
        if p.name.endswith(BUNDLE_SUFFIX) and not p.name.startswith(".")
    )


def _load_json(path: Path, where: str, what: str) -> Any:
    try:
        with path.open("rb") as src:
            return json.load(src)
    except FileNotFoundError:
        raise RunnerError(f"{where}: torn bundle: {what} is missing") from None
    except (OSError, ValueError) as exc:
        raise RunnerError(f"{where}: torn bundle: {what} is not readable JSON ({exc})") from None


def read_bundle(path: Path, *, nonce: str, job: str | None = None) -> Bundle:
    """Validate the bundle at ``path`` against this job's ``nonce`` and return it.

    RunnerError names what is wrong: *torn* (manifest or a part missing, short, or not
    JSON), *foreign* (sealed with another job's nonce, or naming another job or place),
    *digest mismatch* (a part's bytes or the manifest changed after sealing).
    """
    path = Path(path)
    where = str(path)
    if path.is_symlink() or not path.is_dir():
        raise RunnerError(f"{where}: torn bundle: not a bundle directory")
    manifest = _load_json(path / "manifest.json", where, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise RunnerError(f"{where}: not a {BUNDLE_FORMAT} bundle (manifest format)")
    if manifest.get("nonce_id") != _nonce_id(nonce):
        raise RunnerError(f"{where}: foreign bundle: sealed with another job's nonce")
    body = {k: v for k, v in manifest.items() if k != "seal"}
    if not hmac.compare_digest(str(manifest.get("seal", "")), _seal(nonce, body)):
        raise RunnerError(f"{where}: digest mismatch: the manifest does not match its seal")
    b_job, b_name = manifest.get("job"), manifest.get("name")
    expected = f"{b_name}{BUNDLE_SUFFIX}"
    if (job is not None and b_job != job) or path.name != expected or path.parent.name != b_job:
        raise RunnerError(
            f"{where}: foreign bundle: sealed for {b_job}/{b_name}, found at "
            f"{path.parent.name}/{path.name}"
        )
    parts = manifest.get("parts")
    if not isinstance(parts, dict) or not (_REQUIRED <= parts.keys() <= set(_PARTS)):
        raise RunnerError(f"{where}: torn bundle: the manifest's parts are incomplete")
    for part, meta in sorted(parts.items()):
        part_path = path / part
        try:
            info = part_path.lstat()
        except FileNotFoundError:
            raise RunnerError(f"{where}: torn bundle: {part} is missing") from None
        if not stat.S_ISREG(info.st_mode):
            raise RunnerError(f"{where}: torn bundle: {part} is not a regular file")
        if info.st_size > _PART_CAPS[part]:
            raise RunnerError(
                f"{where}: {part} is {info.st_size} bytes, over its cap of {_PART_CAPS[part]}"
            )
        if not isinstance(meta, dict) or info.st_size != meta.get("size"):
            raise RunnerError(
                f"{where}: torn bundle: {part} is {info.st_size} bytes, the manifest says "
                f"{meta.get('size') if isinstance(meta, dict) else meta}"
            )
        if _part_digest(part_path) != meta.get("digest"):
            raise RunnerError(f"{where}: digest mismatch: {part} differs from its manifest digest")
    result = _load_json(path / "result.json", where, "result.json")
    if not isinstance(result, dict):
        raise RunnerError(f"{where}: result.json is not a JSON object")
    measurements = Measurements.from_json(
        _load_json(path / "measurements.json", where, "measurements.json"), where
    )
    labels = manifest.get("labels", {})
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise RunnerError(f"{where}: the manifest's labels must map names to strings")
    art = parts.get("artifact")
    return Bundle(
        bundle_id=f"{b_job}/{b_name}",
        job=str(b_job),
        name=str(b_name),
        path=path,
        digest=str(manifest["seal"]),
        result=result,
        measurements=measurements,
        stdout_tail=(path / "stdout.tail").read_bytes().decode("utf-8", "replace"),
        stderr_tail=(path / "stderr.tail").read_bytes().decode("utf-8", "replace"),
        artifact_path=path / "artifact" if art else None,
        artifact_digest=art["digest"] if art else None,
        artifact_bytes=art["size"] if art else None,
        labels=labels,
    )
