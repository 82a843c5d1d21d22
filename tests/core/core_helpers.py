"""Shared by the core tests."""

from __future__ import annotations

from ftbridge import PollPolicy

FAST = PollPolicy(initial=0.02, maximum=0.1, retry_initial=0.01, retry_max_wait=0.5)
