"""The shared provider behaviours, proven for Together against its emulator."""

from __future__ import annotations

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY, BASE

from ftbridge.testing import ProviderConformance


class TestTogetherConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, emulator: TogetherEmulator) -> TogetherProvider:
        return TogetherProvider.from_config({"api_key": API_KEY, "base_url": emulator.base_url})

    @pytest.fixture
    def model_name(self) -> str:
        return BASE
