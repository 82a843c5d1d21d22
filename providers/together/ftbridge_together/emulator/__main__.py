"""``python -m ftbridge_together.emulator``: see :func:`ftbridge_together.emulator.main`."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
