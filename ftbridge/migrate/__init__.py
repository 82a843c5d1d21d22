"""Moving fine-tunes off a provider that closes: inventory, record, retrain, parity.

    ftbridge.inventory()                                   # what is at risk, most urgent first
    ftbridge.record("openai:ft:gpt-4o-mini:acme::abc", data="prompts.jsonl", out="golden.jsonl")
    ftbridge.retrain("openai:ftjob-abc", provider="local", model="./models/tiny")
    report = ftbridge.evaluate({"new": new_job, "old": old_job}, "golden.jsonl",
                               scorers=["exact", "chrf"], baseline="old")
    ftbridge.migrate.parity(report, "new", target=0.95).met

Providers take part through optional members: ``list_fine_tuned_models()`` (a list of
:class:`RemoteModel`), ``closing`` (a :class:`ProviderClosing`, kept as data with its source),
``trained_hyperparameters(snapshot)``, ``default_learning_rate(tuning)`` and
``download_training_data(snapshot, dest)``.
"""

from __future__ import annotations

from ._inventory import closing_notices, inventory
from ._models import InventoryItem, ProviderClosing, RemoteModel
from ._parity import Parity, parity, parity_all
from ._record import RecordResult, record
from ._retrain import RetrainPlan, plan_retrain, retrain

__all__ = [
    "InventoryItem",
    "Parity",
    "ProviderClosing",
    "RecordResult",
    "RemoteModel",
    "RetrainPlan",
    "closing_notices",
    "inventory",
    "parity",
    "parity_all",
    "plan_retrain",
    "record",
    "retrain",
]
