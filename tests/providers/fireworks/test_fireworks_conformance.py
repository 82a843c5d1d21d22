"""The shared provider behaviours, proven for Fireworks against its emulator."""

from __future__ import annotations

import pytest
from fireworks_data import ACCOUNT, API_KEY, BASE
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator

from ftbridge.testing import ProviderConformance


class TestFireworksConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, emulator: FireworksEmulator) -> FireworksProvider:
        return FireworksProvider.from_config(
            {"api_key": API_KEY, "account_id": ACCOUNT, "base_url": emulator.base_url}
        )

    @pytest.fixture
    def model_name(self) -> str:
        return BASE
