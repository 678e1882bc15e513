#!/usr/bin/env bash
# Prove main works on a clean clone: fresh clone, fresh venv, the README's two commands.
set -euo pipefail
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet --branch main "$repo" "$work/benchstone"
cd "$work/benchstone"
python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
# 1. install + demo (README "Try it")
pip install nox ./packages/* . && bench demo
# 2. the whole test suite (README "Test")
nox
