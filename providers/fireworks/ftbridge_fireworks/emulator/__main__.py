"""``python -m ftbridge_fireworks.emulator``: see :func:`ftbridge_fireworks.emulator.main`."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
