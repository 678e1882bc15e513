"""The version `bench --version` prints, without importlib.metadata (~20 ms to import).

Kept equal to the distribution's version by a test (tests/test_version.py of this package).
"""

VERSION = "0.1.0"
