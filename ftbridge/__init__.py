"""ftbridge: validate a fine-tuning dataset once, train it anywhere, chat with the result.

    import ftbridge

    ds = ftbridge.validate("support.jsonl", provider="openai")
    job = ftbridge.submit(ds, provider="local", model="./models/tiny")
    job.wait()
    print(job.model().chat([{"role": "user", "content": "Where is my order?"}]).text)

Names are imported on first use, so ``import ftbridge`` stays fast and pulls in no provider SDK
and no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "AuthenticationError": "._exceptions",
    "Capabilities": "._models",
    "ChatResult": "._models",
    "ConfigError": "._exceptions",
    "DatasetError": "._exceptions",
    "DatasetReadError": "._exceptions",
    "DatasetRef": "._models",
    "DatasetValidationError": ".validation._errors",
    "EvalReport": ".eval",
    "Event": "._models",
    "FtbridgeError": "._exceptions",
    "Generation": "._provider",
    "Finding": ".validation",
    "Hyperparameters": "._models",
    "InferenceError": "._exceptions",
    "Job": "._job",
    "JobCancelledError": "._exceptions",
    "JobError": "._exceptions",
    "JobErrorInfo": "._models",
    "JobFailedError": "._exceptions",
    "JobNotFoundError": "._exceptions",
    "JobNotSucceededError": "._exceptions",
    "JobSnapshot": "._models",
    "JobSpec": "._models",
    "JobStatus": "._models",
    "JobTimeoutError": "._exceptions",
    "MetricPoint": "._models",
    "MetricSeries": "._models",
    "MissingCredentialsError": "._exceptions",
    "ModelHandle": "._provider",
    "NotSupportedError": "._exceptions",
    "OptionsError": "._exceptions",
    "PermissionDeniedError": "._exceptions",
    "PollPolicy": "._polling",
    "Preflight": "._models",
    "PreflightError": "._exceptions",
    "Provider": "._provider",
    "ProviderError": "._exceptions",
    "ProviderNotFoundError": "._exceptions",
    "ProviderNotInstalledError": "._exceptions",
    "RateLimitError": "._exceptions",
    "ProviderUnreachableError": "._exceptions",
    "RequestRejectedError": "._exceptions",
    "StoreError": "._exceptions",
    "TransientProviderError": "._exceptions",
    "UnknownProviderError": "._exceptions",
    "UnsupportedHyperparameterError": "._exceptions",
    "Usage": "._models",
    "ValidatedDataset": ".validation",
    "ValidationReport": ".validation",
    "get_job": "._api",
    "get_provider": "._registry",
    "list_jobs": "._api",
    "list_providers": "._registry",
    "load_config": "._config",
    "ServableAdapter": "._serving",
    "Server": "._serving",
    "serve": "._serving",
    "open_model": "._open",
    "submit": "._api",
    "inventory": ".migrate._inventory",
    "retrain": ".migrate._retrain",
    "record": ".migrate._record",
    "InventoryItem": ".migrate._models",
    "ProviderClosing": ".migrate._models",
    "RemoteModel": ".migrate._models",
    "ProviderClosedError": "._exceptions",
    "ModelShutDownError": "._exceptions",
    "evaluate": ".eval",
    "validate": ".validation",
    "wait_all": "._follow",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from ._api import get_job, list_jobs, submit
    from ._config import load_config
    from ._exceptions import (
        AuthenticationError,
        ConfigError,
        DatasetError,
        DatasetReadError,
        FtbridgeError,
        InferenceError,
        JobCancelledError,
        JobError,
        JobFailedError,
        JobNotFoundError,
        JobNotSucceededError,
        JobTimeoutError,
        MissingCredentialsError,
        ModelShutDownError,
        NotSupportedError,
        OptionsError,
        PermissionDeniedError,
        PreflightError,
        ProviderClosedError,
        ProviderError,
        ProviderNotFoundError,
        ProviderNotInstalledError,
        ProviderUnreachableError,
        RateLimitError,
        RequestRejectedError,
        StoreError,
        TransientProviderError,
        UnknownProviderError,
        UnsupportedHyperparameterError,
    )
    from ._follow import wait_all
    from ._job import Job
    from ._models import (
        Capabilities,
        ChatResult,
        DatasetRef,
        Event,
        Hyperparameters,
        JobErrorInfo,
        JobSnapshot,
        JobSpec,
        JobStatus,
        MetricPoint,
        MetricSeries,
        Preflight,
        Usage,
    )
    from ._open import open_model
    from ._polling import PollPolicy
    from ._provider import Generation, ModelHandle, Provider
    from ._registry import get_provider, list_providers
    from ._serving import ServableAdapter, Server, serve
    from .eval import EvalReport, evaluate
    from .migrate._inventory import inventory
    from .migrate._models import InventoryItem, ProviderClosing, RemoteModel
    from .migrate._record import record
    from .migrate._retrain import retrain
    from .validation import Finding, ValidatedDataset, ValidationReport, validate
    from .validation._errors import DatasetValidationError
