"""How every `bench` command writes: results on stdout, `warning:` and `Error:` on stderr.

Click-free on purpose: `bench evaluate` in its plain form is answered without importing
click (see ``_fast``), and it must write exactly what the click command writes. Streams
are looked up at each call (``sys.stdout`` as it is then), so click's ``CliRunner`` and
pytest's capture see the output, as they see ``click.echo``'s.
"""

from __future__ import annotations

import codecs
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

from benchstone.api._exit_codes import ERROR_EXIT_CODE

BROKEN_PIPE_EXIT_CODE = 141  # 128 + SIGPIPE, what a shell reports for a killed writer


class CommandFailed(Exception):
    """Raised inside a command to print `Error: ...` and exit with ``code``."""

    def __init__(self, message: str, code: int = ERROR_EXIT_CODE) -> None:
        super().__init__(message)
        self.code = code


def echo(line: str, *, err: bool = False) -> None:
    """One line, flushed: what ``click.echo`` does with a str on a POSIX terminal or pipe.

    Like click, a stream that declares ASCII (``PYTHONIOENCODING=ascii``, a C locale
    without UTF-8 coercion) is taken as misconfigured and gets UTF-8 bytes: a verdict line
    says "2.44× slower", which ASCII would turn into an error or an escape.
    """
    stream = sys.stderr if err else sys.stdout
    text = line + "\n"
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and _declares_ascii(stream):
        stream.flush()
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()
        return
    stream.write(text)
    stream.flush()


def _declares_ascii(stream: Any) -> bool:
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "ascii"
    except LookupError:
        return False


def echo_lines(lines: list[str], *, err: bool = False) -> None:
    for line in lines:
        echo(line, err=err)


def error_line(message: str) -> None:
    from benchstone.api._errors import error_line as one_line

    echo(one_line(message), err=True)


def warn(message: str) -> None:
    echo(f"warning: {message}", err=True)


def emit_json(document: Any) -> None:
    from benchstone.api._documents import to_json

    echo(to_json(document))


def _harness_errors() -> tuple[type[BaseException], ...]:
    """Exception bases whose messages are written for the user: the workflow's, and the
    report's (`bench report` calls benchstone.report directly)."""
    from benchstone.api._errors import harness_errors
    from benchstone.report import ReportError

    return (*harness_errors(), ReportError)


def command_errors(func: Callable[..., int | None]) -> Callable[..., int]:
    """Turn every failure into one `Error:` line and a non-verdict exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            return func(*args, **kwargs) or 0
        except BrokenPipeError:
            _silence_stdout()
            return BROKEN_PIPE_EXIT_CODE
        except CommandFailed as exc:
            error_line(str(exc))
            return exc.code
        except Exception as exc:
            if isinstance(exc, _harness_errors()):
                error_line(str(exc))
                return ERROR_EXIT_CODE
            from benchstone.store import setting

            if setting("BENCHSTONE_DEBUG"):
                raise
            error_line(
                f"internal error ({type(exc).__name__}: {exc}); set BENCHSTONE_DEBUG=1 for "
                "the traceback and please report it"
            )
            return ERROR_EXIT_CODE

    return wrapper


def _silence_stdout() -> None:
    """The reader went away (`bench status | head`): drop what is left, quietly.

    Python would otherwise report the broken pipe again when it flushes stdout at exit.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
