"""The FakeProvider passes the suite every provider must pass."""

from __future__ import annotations

import pytest

from ftbridge.testing import FakeProvider, ProviderConformance


class TestFakeProvider(ProviderConformance):
    @pytest.fixture
    def provider(self) -> FakeProvider:
        return FakeProvider(script=[("queued", 0.02), ("running", 0.1), ("succeeded", 0)])

    @pytest.fixture
    def model_name(self) -> str:
        return "fake-base"
