"""The shared provider behaviours, proven for the local provider on the tiny offline model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ftbridge_local import LocalProvider

from ftbridge import Provider
from ftbridge.testing import ProviderConformance

pytestmark = pytest.mark.slow


class TestLocalConformance(ProviderConformance):
    wait_timeout = 300.0

    def submit_kwargs(self) -> dict[str, Any]:
        # A couple of real QLoRA steps: enough to go through every state, quick on CPU.
        return {
            "hyperparameters": {"epochs": 1, "batch_size": 4},
            "options": {"max_length": 64, "max_steps": 2},
        }

    @pytest.fixture
    def provider(self) -> Provider:
        return LocalProvider.from_config({})

    @pytest.fixture
    def model_name(self, tiny_model: Path) -> str:
        return str(tiny_model)
