"""The checks Together applies to ``POST /v1/fine-tunes`` before it creates a job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ftbridge.testing.emulator import ApiError

if TYPE_CHECKING:
    from ._jobs import Job
    from ._server import TogetherEmulator

SUFFIX_MAX = 40


def _bad(message: str, param: str) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_request_error")


def _parent(server: TogetherEmulator, ref: str) -> Job:
    """The job a ``from_checkpoint`` names: ``JOB_ID`` or ``OUTPUT_NAME``, optionally ``:STEP``."""
    name, _, step = ref.partition(":")
    job = server.jobs.get(name) or next(
        (j for j in server.jobs.values() if j.output_name == name), None
    )
    if job is None:
        raise _bad(f"Checkpoint {ref!r} not found.", "from_checkpoint")
    now = server._now()
    if step:
        if not step.isdigit() or int(step) not in {s for s, _ in job.checkpoint_steps()}:
            raise _bad(f"Job {job.id} has no checkpoint at step {step}.", "from_checkpoint")
        if not any(c["step"] == int(step) for c in job.checkpoints(now)):
            raise _bad(f"The checkpoint at step {step} is not saved yet.", "from_checkpoint")
    elif job.status_at(now) != "completed":
        raise _bad(f"Job {job.id} has no final checkpoint yet.", "from_checkpoint")
    return job


def check_create(server: TogetherEmulator, body: dict[str, Any]) -> tuple[str, Job | None]:
    """Raise ``ApiError(400)`` for a request Together would refuse; return the base model name
    and the parent job of a continued training."""
    parent = None
    if body.get("from_checkpoint"):
        if body.get("model"):
            raise _bad("Specify either a model or a checkpoint, not both.", "model")
        parent = _parent(server, str(body["from_checkpoint"]))
        base_name = parent.base.name
    elif not body.get("model"):
        raise _bad("'model' is required.", "model")
    else:
        base_name = str(body["model"])
    base = server._model(base_name, status=400)
    limits = base.limits()

    for key in ("training_file", "validation_file"):
        file_id = body.get(key)
        if key == "training_file" and not file_id:
            raise _bad("'training_file' is required.", key)
        if not file_id:
            continue
        file = server.files.get(str(file_id))
        if file is None or file.data is None:
            raise ApiError(404, f"File {file_id} not found.", param=key, code="file_not_found")
        status = server._file_status(file)
        if status != "COMPLETED":
            raise _bad(f"File {file_id} cannot be used: its processing_status is {status}.", key)

    epochs = body.get("n_epochs", 1)
    if not isinstance(epochs, int) or not 1 <= epochs <= limits["max_num_epochs"]:
        raise _bad(f"n_epochs must be between 1 and {limits['max_num_epochs']}.", "n_epochs")
    lr = body.get("learning_rate", 1e-5)
    if not isinstance(lr, (int, float)) or not (
        limits["min_learning_rate"] <= lr <= limits["max_learning_rate"]
    ):
        raise _bad("learning_rate is out of the allowed range.", "learning_rate")
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or len(suffix) > SUFFIX_MAX):
        raise _bad(f"suffix must be a string of at most {SUFFIX_MAX} characters.", "suffix")
    n_evals = body.get("n_evals") or 0
    if n_evals and not body.get("validation_file"):
        raise _bad("n_evals requires a validation_file.", "n_evals")
    if (body.get("n_checkpoints") or 1) > limits["max_num_checkpoints"]:
        raise _bad("n_checkpoints is above the maximum.", "n_checkpoints")

    method = body.get("training_method") or {"method": "sft"}
    if method.get("method") not in ("sft", "dpo"):
        raise _bad("training_method.method must be 'sft' or 'dpo'.", "training_method")
    dpo = method["method"] == "dpo"
    ttype = body.get("training_type") or {"type": "Lora"}
    if ttype.get("type") == "Full":
        bounds = limits.get("full_training")
        if bounds is None:
            raise _bad(f"Full training is not supported for {base_name}.", "training_type")
    elif ttype.get("type") == "Lora":
        bounds = limits["lora_training"]
        rank = ttype.get("lora_r", bounds["default_rank"])
        if not isinstance(rank, int) or not 1 <= rank <= bounds["max_rank"]:
            raise _bad(f"lora_r must be between 1 and {bounds['max_rank']}.", "training_type")
    else:
        raise _bad("training_type.type must be 'Lora' or 'Full'.", "training_type")
    batch = body.get("batch_size", "max")
    if batch != "max":
        high = bounds["max_batch_size_dpo" if dpo else "max_batch_size"]
        if not isinstance(batch, int) or not bounds["min_batch_size"] <= batch <= high:
            raise _bad(
                f"batch_size must be between {bounds['min_batch_size']} and {high}.",
                "batch_size",
            )
    train = server.files[str(body["training_file"])]
    data_format = (train.report or {}).get("dataset_format")
    if dpo != (data_format == "PREFERENCE_OPENAI"):
        raise _bad(
            f"training_method {method['method']!r} does not match the dataset format "
            f"{data_format}.",
            "training_method",
        )
    return base_name, parent
