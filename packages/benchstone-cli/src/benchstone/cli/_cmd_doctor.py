"""`bench doctor`: report what makes this host noisy for timings (pyperf's `system check`)."""

from __future__ import annotations

import click

from benchstone.cli._common import command_errors, emit_json, json_option


@click.command()
@click.option("--no-calibrate", is_flag=True, help="Skip the short calibration loop (~0.2 s).")
@json_option
@command_errors
def doctor(no_calibrate: bool, as_json: bool) -> int:
    """Check this host for timing noise: governor, turbo, ASLR, load, sandbox, valgrind.

    One line per check (`ok` or `warn`) with advice under each warning. Only reads; never
    changes the host; exits 0.
    """
    from benchstone import api

    report = api.doctor(calibrate=not no_calibrate)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(report.render())
    return 0
