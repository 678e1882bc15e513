"""`python -m benchstone.cli` is the `bench` command."""

import sys

from benchstone.cli import main

sys.exit(main())
