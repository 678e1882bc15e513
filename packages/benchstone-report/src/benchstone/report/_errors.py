"""The one exception base of benchstone-report."""


class ReportError(Exception):
    """A report cannot be built; the message is one line naming the bad input."""
