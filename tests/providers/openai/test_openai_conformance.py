"""The shared provider conformance suite, proven for OpenAI against the emulator."""

from __future__ import annotations

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY

from ftbridge.testing import ProviderConformance


class TestOpenAIConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, emulator: OpenAIEmulator) -> OpenAIProvider:
        return OpenAIProvider(api_key=API_KEY, base_url=emulator.base_url)

    @pytest.fixture
    def model_name(self) -> str:
        return "gpt-4o-mini"
