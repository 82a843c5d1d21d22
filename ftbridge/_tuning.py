"""Old provider option spellings of a unified hyperparameter, moved to the unified name.

``options={"method": "lora"}`` (local) and ``options={"training": "lora"}`` (Together) both
became ``hyperparameters={"tuning": "lora"}``; ``lora_r`` became ``lora_rank``. A provider lists
its old spellings in ``Capabilities.renamed_options``; the core moves them before anything else
looks at the job, so a provider reads one name only. The old spelling keeps working with a
deprecation warning; an old and a new spelling that disagree are an error.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ._exceptions import OptionsError
from ._models import Hyperparameters, JobSpec

log = logging.getLogger("ftbridge")


def move_renamed_options(
    provider: str,
    renames: Mapping[str, str],
    hp: Hyperparameters,
    options: Mapping[str, Any],
    *,
    warn: bool = True,
) -> tuple[Hyperparameters, dict[str, Any]]:
    """``(hyperparameters, options)`` with every old option spelling moved to its unified name.

    ``warn=False`` reads a stored job spec written before the rename without a message.
    """
    rest = dict(options)
    moved: dict[str, Any] = {}
    given = hp.given()
    for old, new in renames.items():
        if old not in rest:
            continue
        value = rest.pop(old)
        if value is None:
            continue
        if new in given and given[new] != value:
            raise OptionsError(
                f"{provider}: options {old}={value!r} and hyperparameter {new}={given[new]!r} "
                f"disagree; {old!r} is the old name of {new!r}: drop options {old!r}"
            )
        moved[new] = value
        if warn:
            message = (
                f"{provider}: options {old!r} is deprecated; pass hyperparameters "
                f"{{{new!r}: {value!r}}} instead (--{new.replace('_', '-')} on the command line)"
            )
            warnings.warn(message, DeprecationWarning, stacklevel=3)
            log.warning("%s", message)
    if not moved:
        return hp, rest
    try:
        unified = Hyperparameters.model_validate({**moved, **given})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        raise OptionsError(f"bad options for {provider}: {problems}") from exc
    return unified, rest


def unified_spec(spec: JobSpec, renames: Mapping[str, str]) -> JobSpec:
    """A stored spec with old option spellings moved (a run started before the rename)."""
    if not renames.keys() & spec.options.keys():
        return spec
    hp, options = move_renamed_options(
        spec.provider, renames, spec.hyperparameters, spec.options, warn=False
    )
    return spec.model_copy(update={"hyperparameters": hp, "options": options})
