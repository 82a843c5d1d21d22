"""The public surface: what ``import ftbridge`` offers, and what it costs."""

from __future__ import annotations

import subprocess
import sys

import ftbridge

EXPECTED = [
    "record",
    "retrain",
    "inventory",
    "ModelShutDownError",
    "ProviderClosedError",
    "RemoteModel",
    "ProviderClosing",
    "InventoryItem",
    "AuthenticationError",
    "Capabilities",
    "ChatResult",
    "ConfigError",
    "DatasetError",
    "DatasetReadError",
    "DatasetRef",
    "DatasetValidationError",
    "EvalReport",
    "Event",
    "Finding",
    "FtbridgeError",
    "Generation",
    "Hyperparameters",
    "InferenceError",
    "Job",
    "JobCancelledError",
    "JobError",
    "JobErrorInfo",
    "JobFailedError",
    "JobNotFoundError",
    "JobNotSucceededError",
    "JobSnapshot",
    "JobSpec",
    "JobStatus",
    "JobTimeoutError",
    "MetricPoint",
    "MetricSeries",
    "MissingCredentialsError",
    "ModelHandle",
    "NotSupportedError",
    "OptionsError",
    "PermissionDeniedError",
    "PollPolicy",
    "Preflight",
    "PreflightError",
    "Provider",
    "ProviderError",
    "ProviderNotFoundError",
    "ProviderNotInstalledError",
    "ProviderUnreachableError",
    "RateLimitError",
    "RequestRejectedError",
    "ServableAdapter",
    "Server",
    "StoreError",
    "TransientProviderError",
    "UnknownProviderError",
    "UnsupportedHyperparameterError",
    "Usage",
    "ValidatedDataset",
    "ValidationReport",
    "__version__",
    "evaluate",
    "get_job",
    "get_provider",
    "list_jobs",
    "list_providers",
    "load_config",
    "open_model",
    "serve",
    "submit",
    "validate",
    "wait_all",
]


def test_all_is_locked_and_sorted() -> None:
    assert ftbridge.__all__ == sorted(EXPECTED)


def test_every_exported_name_resolves() -> None:
    for name in ftbridge.__all__:
        assert getattr(ftbridge, name) is not None, name


def test_errors_share_one_root() -> None:
    for name in ftbridge.__all__:
        obj = getattr(ftbridge, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ftbridge.FtbridgeError), name


def test_import_pulls_in_no_heavy_dependency() -> None:
    heavy = (
        "torch",
        "transformers",
        "peft",
        "trl",
        "bitsandbytes",
        "openai",
        "together",
        "datasets",
        "tiktoken",
        "tokenizers",
    )
    code = (
        "import sys, ftbridge\n"
        "ftbridge.validate; ftbridge.submit; ftbridge.Job; ftbridge.get_job\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        ftbridge.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
