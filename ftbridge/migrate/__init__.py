"""Moving fine-tunes off a provider that closes: inventory, record, retrain, parity.

    ftbridge.inventory()                                   # what is at risk, most urgent first
    ftbridge.record("openai:ft:gpt-4o-mini:acme::abc", data="prompts.jsonl", out="golden.jsonl")
    ftbridge.retrain("openai:ftjob-abc", provider="local", model="./models/tiny")

Providers take part through optional members: ``list_fine_tuned_models()`` (a list of
:class:`RemoteModel`) and ``closing`` (a :class:`ProviderClosing`, kept as data with its source).
"""

from __future__ import annotations

from ._models import InventoryItem, ProviderClosing, RemoteModel

__all__ = ["InventoryItem", "ProviderClosing", "RemoteModel"]
