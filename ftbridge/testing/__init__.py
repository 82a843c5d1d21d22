"""Test doubles that ship with ftbridge, for its own tests and for its users'.

- ``FakeProvider``: a scripted, file-backed provider (no network), registered as ``fake``.
- ``ProviderConformance``: the behaviour every provider must show; a provider's tests subclass
  it and supply the ``provider`` and ``model_name`` fixtures (needs pytest).
- ``ftbridge.testing.emulator``: the base of the providers' HTTP emulators.
"""

from __future__ import annotations

from typing import Any

from ._fake import FakeModelHandle, FakeOptions, FakeProvider

__all__ = ["FakeModelHandle", "FakeOptions", "FakeProvider", "ProviderConformance"]


def __getattr__(name: str) -> Any:
    if name == "ProviderConformance":  # imports pytest, so only on demand
        from ._conformance import ProviderConformance

        return ProviderConformance
    raise AttributeError(name)
