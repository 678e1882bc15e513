"""The sandbox levels a manifest may ask for (``project.sandbox``).

Apart from ``_sandbox`` so that loading a manifest (every `bench evaluate`) does not
import the confinement machinery (ctypes, Landlock) just to check one word; the sandbox
itself takes the list from here, so the rule stays in one place.
"""

from __future__ import annotations

LEVELS = ("auto", "bwrap", "landlock", "none")
