"""Single files hash exactly as sha256sum, b3sum and xxhsum -H2 print.

The fixed vectors below were computed with those tools (GNU coreutils sha256sum, b3sum
1.2.0, xxhsum 0.8.1); when a tool is installed the test also runs it on the same file,
so a tool and the hasher are compared directly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hasher_support import content, reference_file, tool

from benchstone.hasher import digest

# name -> (bytes, {algo: hex}) ; contents: b"", b"a", b"abc", or content(n)
VECTORS = {
    "empty": (
        b"",
        {
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "blake3": "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            "xxh3-128": "99aa06d3014798d86001c324468d497f",
        },
    ),
    "a": (
        b"a",
        {
            "sha256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            "blake3": "17762fddd969a453925d65717ac3eea21320b66b54342fde15128d6caf21215f",
            "xxh3-128": "a96faf705af16834e6c632b61e964e1f",
        },
    ),
    "abc": (
        b"abc",
        {
            "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "blake3": "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
            "xxh3-128": "06b05ab6733a618578af5f94892f3950",
        },
    ),
    "shake-1024": (
        1024,
        {
            "sha256": "a2bc4b18a7f6382a7458f5ce307041fc720a1218696f53d4969f8ec9c50b4772",
            "blake3": "272acef1b353154f600780c27119ace84069379570ca88f7079de00aa6997838",
            "xxh3-128": "e67595531847ef3aa96f4535373cdf78",
        },
    ),
    "shake-1025": (
        1025,
        {
            "sha256": "62ee2799c5de2deda79d0be912d38c0d44f5d18119727446cfa23efaf57516e3",
            "blake3": "c4ab9d0f73bb91ccb98297a21ecb59696ef6ee6c19b4c359a119223abfc802f4",
            "xxh3-128": "3cd308d0055db7a22b7ac49ddc066843",
        },
    ),
    "shake-65537": (
        65537,
        {
            "sha256": "d09f94f38e21d528902d50c4d22afe52bb92e431dcb12b78fa59f6e8816ee204",
            "blake3": "970449e3d0bf8884ecd040f19a9eb603ee0340063df96ee89f56adff4d8e5b0d",
            "xxh3-128": "0d880c5c86c6201e8c125627f3a9fdae",
        },
    ),
    "shake-1048577": (
        (1 << 20) + 1,
        {
            "sha256": "e075d209aa612c2b4879cb11e4e36fa534b4f6656b45a6e15ebaebcc368953ae",
            "blake3": "13c9daa372ae235e4fd262a35780252aef433d57ac9ab12f94727d7b39628a28",
            "xxh3-128": "18eaba0f62d55f80cefff41861d26a0a",
        },
    ),
    # Over the 16 MiB threshold of every algorithm: the parallel single-file path
    # (1 MiB blocks, and a tail).
    "shake-20971527": (
        (20 << 20) + 7,
        {
            "sha256": "ea6d3aae4e41f10c154f5f10b2d62889f3c16e27b6895c02aeab6571bcdcaba7",
            "blake3": "f41b34a1d3922bb966e5339ff43ddb7da021b77296f7600b6652cd2bfb8484f1",
            "xxh3-128": "0da1d4700c008df8a24af1c6849621be",
        },
    ),
}

TOOLS = {"sha256": ["sha256sum"], "blake3": ["b3sum"], "xxh3-128": ["xxhsum", "-H2"]}


@pytest.fixture(scope="module")
def vector_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vectors")
    paths = {}
    for name, (data, _) in VECTORS.items():
        path = root / name
        path.write_bytes(content(data) if isinstance(data, int) else data)
        paths[name] = path
    return paths


@pytest.mark.parametrize("algo", ["sha256", "blake3", "xxh3-128"])
@pytest.mark.parametrize("name", list(VECTORS))
def test_fixed_vector(vector_files: dict[str, Path], name: str, algo: str) -> None:
    expected = VECTORS[name][1][algo]
    assert digest(vector_files[name], algo) == f"{algo}:{expected}"


@pytest.mark.parametrize("algo", ["sha256", "blake3", "xxh3-128"])
@pytest.mark.parametrize("name", list(VECTORS))
def test_fixed_vectors_agree_with_the_python_libraries(
    vector_files: dict[str, Path], name: str, algo: str
) -> None:
    assert reference_file(algo, vector_files[name]) == f"{algo}:{VECTORS[name][1][algo]}"


@pytest.mark.parametrize("algo", ["sha256", "blake3", "xxh3-128"])
@pytest.mark.parametrize("name", ["empty", "abc", "shake-65537", "shake-20971527"])
def test_same_as_the_command_line_tool(vector_files: dict[str, Path], name: str, algo: str) -> None:
    command = TOOLS[algo]
    if tool(command[0]) is None:
        pytest.skip(
            f"{command[0]} not installed (apt-get install b3sum xxhash); fixed vectors cover it"
        )
    out = subprocess.run(
        [*command, str(vector_files[name])], capture_output=True, text=True, check=True
    ).stdout
    assert digest(vector_files[name], algo) == f"{algo}:{out.split()[0]}"


def test_default_algorithm_is_blake3(vector_files: dict[str, Path]) -> None:
    assert digest(vector_files["abc"]) == "blake3:" + VECTORS["abc"][1]["blake3"]


def test_hash_is_of_the_bytes_not_the_name(tmp_path: Path) -> None:
    one = tmp_path / "one.bin"
    other = tmp_path / "other name.dat"
    one.write_bytes(b"abc")
    other.write_bytes(b"abc")
    assert digest(one) == digest(other) == "blake3:" + VECTORS["abc"][1]["blake3"]
