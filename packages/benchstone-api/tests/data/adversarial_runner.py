"""A benchmark runner that misbehaves on purpose, one way per repetition.

The test writes a control file (outside the project, so the git tree stays clean) naming
the mode of each repetition index; the runner looks it up from its config and acts it out.
Only the standard library: the harness must cope with whatever a runner in any language
could do.
"""

import json
import os
import signal
import sys
import time

MIB = 1 << 20


def main() -> None:
    args = dict(arg.split("=", 1) for arg in sys.argv[1:])
    with open(args["--config"]) as handle:
        config = json.load(handle)
    with open(os.environ["ADVERSARY_CONTROL"]) as handle:
        control = json.load(handle)
    mode = control["modes"][config["repetition_index"]]
    output = args["--output"]
    MODES[mode](output, control)


def write(output: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    with open(output, "wb") as handle:
        handle.write(data)


def ok(output: str, control: dict) -> None:
    write(output, json.dumps({"status": "ok", "metric": 1.5}))


def hang(output: str, control: dict) -> None:
    """A runner and a child that both ignore SIGTERM and never finish."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = os.fork()
    if child == 0:
        record_pid(control["pids"])
        while True:
            time.sleep(1)
    record_pid(control["pids"])
    while True:
        time.sleep(1)


def daemon(output: str, control: dict) -> None:
    """Write a good result, leave a detached daemon behind, and exit 0."""
    ok(output, control)
    pidfile = control["daemon_pid"]
    if os.fork() == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with open(pidfile + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.rename(pidfile + ".tmp", pidfile)
        while True:
            time.sleep(1)
    while not os.path.exists(pidfile):
        time.sleep(0.01)


def record_pid(path: str) -> None:
    with open(path, "a") as handle:
        handle.write(f"{os.getpid()}\n")


def huge_result(output: str, control: dict) -> None:
    """A syntactically plausible result file of ``result_bytes`` bytes."""
    size = control.get("result_bytes", 2 * MIB)
    head = b'{"status": "ok", "metric": 1.5, "padding": "'
    with open(output, "wb") as handle:
        handle.write(head)
        left = size - len(head) - 2
        chunk = b"x" * MIB
        while left > 0:
            piece = chunk[: min(left, MIB)]
            handle.write(piece)
            left -= len(piece)
        handle.write(b'"}')


def flood_stdout(output: str, control: dict) -> None:
    """``stdout_bytes`` bytes on stdout, then a good result."""
    left = control["stdout_bytes"]
    chunk = b"y" * MIB
    while left > 0:
        left -= os.write(1, chunk[: min(left, MIB)])
    ok(output, control)


def forged_wall_clock(output: str, control: dict) -> None:
    """Sleep a second but claim to have taken a tenth of a millisecond."""
    time.sleep(1.0)
    write(
        output,
        json.dumps({"status": "ok", "metric": 0.0001, "wall_clock_seconds": 0.0001}),
    )


def look_for_the_store(output: str, control: dict) -> None:
    """Report every trace of the harness's store this process can find."""
    home = control["store_home"]
    found = {
        "BENCHSTONE_HOME": os.environ.get("BENCHSTONE_HOME"),
        "harness_variables": sorted(k for k in os.environ if k.upper().startswith("BENCHSTONE")),
        "values_naming_the_store": sorted(k for k, v in os.environ.items() if home in v),
        "fds_into_the_store": sorted(
            target
            for target in (readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd"))
            if target and target.startswith(home)
        ),
        "arguments_naming_the_store": [a for a in sys.argv if home in a],
    }
    write(output, json.dumps({"status": "ok", "metric": 1.0, "metadata": found}))


def readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def exit_nonzero(output: str, control: dict) -> None:
    ok(output, control)
    sys.exit(3)


def crash(output: str, control: dict) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


RAW = {
    "missing": None,
    "empty": "",
    "garbage": "this is not {json",
    "not_object": "[1.5]",
    "non_utf8": b'{"status": "ok", "metric": 1.5, "note": "\xff"}',
    "nan": '{"status": "ok", "metric": NaN}',
    "infinity": '{"status": "ok", "metric": Infinity}',
    "overflow": '{"status": "ok", "metric": 1e999}',
    "string_metric": '{"status": "ok", "metric": "1.5"}',
    "bool_metric": '{"status": "ok", "metric": true}',
    "ok_without_metric": '{"status": "ok"}',
    "error_without_message": '{"status": "error"}',
    "error_empty_message": '{"status": "error", "message": ""}',
    "unknown_status": '{"status": "great", "metric": 1.5}',
    "reported_error": '{"status": "error", "message": "the solver diverged"}',
}


def raw(text: str | bytes | None):
    def act(output: str, control: dict) -> None:
        if text is not None:
            write(output, text)

    return act


MODES = {
    "ok": ok,
    "hang": hang,
    "daemon": daemon,
    "huge_result": huge_result,
    "flood_stdout": flood_stdout,
    "forged_wall_clock": forged_wall_clock,
    "look_for_the_store": look_for_the_store,
    "exit_nonzero": exit_nonzero,
    "crash": crash,
    **{name: raw(text) for name, text in RAW.items()},
}

if __name__ == "__main__":
    main()
