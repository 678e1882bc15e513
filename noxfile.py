"""Build and test each benchstone distribution in isolation.

Every package session builds the wheels of the package and of the benchstone packages
it depends on, installs them into a fresh virtualenv (external dependencies come from
the index, as a user would get them), and runs that package's own tests there. A
dependency a package imports but does not declare fails its session. The integration
session installs everything and runs ``tests/``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = ROOT / "packages"
PYTHON = ["3.11"]

# Extras a package's session installs beyond [test]: optional integrations are tested in
# the session of the package they live in (`bench mcp`'s server is benchstone-api's; the
# command is benchstone-cli's; the OpenEvolve evaluator's session proves the extra is
# enough to install OpenEvolve). The core without them is tested too: those tests block
# the SDK's import and check the one-line error.
EXTRAS: dict[str, tuple[str, ...]] = {
    "benchstone-api": ("mcp",),
    "benchstone-cli": ("mcp",),
    "benchstone-integrations": ("openevolve",),
}

# The cli session runs its tests on two pytest-xdist workers (benchstone-cli's [test]
# extra brings pytest-xdist), the integration session on three: tests/conftest.py keeps
# the tests that share a resource on one worker (the Slurm tests: one node; the valgrind
# ones), and the Slurm worker mostly waits for the cluster, so two more share the CPUs.
# The runner's tests stay serial: some assert that the pytest process has no child left,
# which another test's child on the same worker breaks.
# `nox -s NAME -- -n 0` runs a session's tests serially.
XDIST = ("-n", "2")
XDIST_INTEGRATION = ("-n", "3")
PARALLEL = {"benchstone-cli"}

nox.options.sessions = [
    "protocol",
    "hasher",
    "store",
    "gates",
    "runner",
    "api",
    "cli",
    "report",
    "integrations",
    "integration",
    "lint",
]
nox.options.reuse_existing_virtualenvs = False
# uv makes the virtualenvs and installs into them when it is there (`pip install nox[uv]`,
# as .ci/run does); plain nox falls back to virtualenv and pip.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True


def _internal_deps(name: str) -> list[str]:
    """The benchstone-* distributions ``name`` depends on, transitively, deps first."""
    order: list[str] = []

    def visit(dist: str) -> None:
        meta = tomllib.loads((PACKAGES / dist / "pyproject.toml").read_text())
        for req in meta["project"].get("dependencies", []):
            dep = req.split("==")[0].split(">=")[0].strip()
            if dep.startswith("benchstone-") and dep not in order:
                visit(dep)
        if dist not in order:
            order.append(dist)

    visit(name)
    return order


def _wheelhouse() -> Path:
    """One folder for this nox run's wheels, removed when nox exits."""
    global _WHEELHOUSE
    if _WHEELHOUSE is None:
        _WHEELHOUSE = Path(tempfile.mkdtemp(prefix="benchstone-wheels-"))
        atexit.register(shutil.rmtree, _WHEELHOUSE, ignore_errors=True)
    return _WHEELHOUSE


_WHEELHOUSE: Path | None = None
# Each distribution's wheel is built once per nox run, by the first session that needs
# it; later sessions install that same wheel file (the sources cannot change mid-run).
_WHEELS: dict[str, str] = {}


def _build_wheels(session: nox.Session, dists: list[str]) -> list[str]:
    """The wheel of each distribution (built now unless this run already has it)."""
    missing = [dist for dist in dists if dist not in _WHEELS]
    uv = session.venv_backend == "uv"
    if missing and not uv:  # plain nox: PEP 517 builds by `build` in the session
        session.install("build>=1", "setuptools>=68")
    for dist in missing:
        out = _wheelhouse() / dist
        if uv:  # an isolated build env of uv's, from its cache: nothing enters the session
            command = ["uv", "build", "--wheel", "--quiet", "--out-dir", str(out)]
        else:
            command = ["python", "-m", "build", "--wheel", "--outdir", str(out)]
        session.run(*command, str(PACKAGES / dist), silent=True, external=True)
        (wheel,) = out.glob(dist.replace("-", "_") + "-*.whl")
        _WHEELS[dist] = str(wheel)
    return [_WHEELS[dist] for dist in dists]


def _package_session(session: nox.Session, dist: str) -> None:
    wheels = _build_wheels(session, _internal_deps(dist))
    # The package under test gets its [test] extra (and EXTRAS); its benchstone deps come
    # from our wheels, also when an extra names one of them (benchstone-api[mcp]).
    extras = ",".join(("test", *EXTRAS.get(dist, ())))
    session.install(*wheels[:-1], f"{wheels[-1]}[{extras}]")
    tests = PACKAGES / dist / "tests"
    session.chdir(str(tests))
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tests),
        "-c",
        "/dev/null",
        "--import-mode=importlib",
        "-ra",
        *(XDIST if dist in PARALLEL else ()),
        *session.posargs,
        str(tests),
    )


for _short in (
    "protocol",
    "hasher",
    "store",
    "gates",
    "runner",
    "api",
    "cli",
    "report",
    "integrations",
):

    def _make(short: str = _short):  # bind the loop variable
        @nox.session(name=short, python=PYTHON)
        def _session(session: nox.Session) -> None:
            _package_session(session, f"benchstone-{short}")

        _session.__doc__ = f"Build benchstone-{short} alone and run its tests in isolation."
        return _session

    globals()[f"session_{_short}"] = _make()


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Install every distribution from wheels and run the end-to-end tests in tests/."""
    wheels = _build_wheels(session, _internal_deps("benchstone-cli"))
    session.install(*wheels, "pytest>=7", "pytest-xdist>=3", "scipy>=1.10")
    session.chdir(str(ROOT / "tests"))
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT / "tests"),
        "-c",
        "/dev/null",
        "--import-mode=importlib",
        "-ra",
        *XDIST_INTEGRATION,
        *session.posargs,
        str(ROOT / "tests"),
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", str(ROOT))
    session.run("ruff", "format", "--check", str(ROOT))
