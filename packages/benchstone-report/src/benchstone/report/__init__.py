"""Reports of a benchstone store, read through ``ReadOnlyStore`` and nothing else."""

from ._build import FORMATS, build_report, write_report
from ._errors import ReportError
from ._value import run_value

__all__ = ["FORMATS", "ReportError", "build_report", "run_value", "write_report"]
