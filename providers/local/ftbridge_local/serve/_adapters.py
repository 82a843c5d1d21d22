"""Adapters on one base: what each was trained on, and which are in memory (LRU, ``max_loaded``).

An adapter is checked before it is accepted: it must be a LoRA adapter, trained on this server's
base model loaded the same way (a QLoRA adapter on the 4-bit NF4 base it saw in training, a LoRA
adapter on the unquantised one). DoRA adapters are accepted, but PEFT cannot mix them with other
adapters in one batch (``adapter_names``), so their requests are decoded in batches of their own.
Accepted adapters are known by name; at most ``max_loaded`` are held in the model at once, and
the least recently used one is unloaded when another is needed (and reloaded on demand).
"""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._runs import MODEL_META

BASE_ADAPTER = "__base__"  # PEFT's name for "no adapter" in a mixed batch
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


class AdapterRefused(ValueError):
    """An adapter that cannot be served here; the message says why and what to do."""


@dataclass(frozen=True)
class BaseConfig:
    """The base model as this server holds it."""

    model: str
    quantized: bool  # 4-bit NF4 with double quantisation, as QLoRA trains on
    dtype: str  # compute dtype name

    def describe(self) -> str:
        return f"{self.model} ({'4-bit NF4' if self.quantized else self.dtype})"


@dataclass
class AdapterInfo:
    """One adapter directory, read (not loaded)."""

    name: str
    path: Path
    base_model: str | None
    quantized: bool | None  # None: not recorded (a plain PEFT adapter directory)
    dora: bool
    rank: int
    dtype: str | None
    tokenizer_dir: Path | None  # the adapter's own tokenizer and chat template, when saved
    tokenizer: Any = field(default=None, repr=False)


def read_adapter(name: str, path: str | Path) -> AdapterInfo:
    """Read an adapter directory: a run directory, its ``model/``, or a PEFT adapter."""
    where = Path(path).expanduser()
    if (where / "model" / MODEL_META).is_file():
        where = where / "model"
    config_file = where / "adapter_config.json"
    meta_file = where / MODEL_META
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    if meta.get("method") == "full":
        raise AdapterRefused(
            f"adapter {name!r}: {where} is a full fine-tune (a whole model), not an adapter; "
            f"serve it as the base: --base {where}"
        )
    if not config_file.is_file():
        raise AdapterRefused(
            f"adapter {name!r}: no adapter_config.json in {where} (expected a PEFT LoRA adapter "
            "directory or a local run)"
        )
    config = json.loads(config_file.read_text())
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterRefused(
            f"adapter {name!r} is a {config.get('peft_type')} adapter; only LoRA adapters are served"
        )
    method = meta.get("method")
    has_tokenizer = any((where / f).is_file() for f in _TOKENIZER_FILES)
    return AdapterInfo(
        name=name,
        path=where,
        base_model=meta.get("base_model") or config.get("base_model_name_or_path") or None,
        quantized=None if method is None else method == "qlora",
        dora=bool(config.get("use_dora")) or method == "dora",
        rank=int(config.get("r", 8)),
        dtype=meta.get("compute_dtype"),
        tokenizer_dir=where if has_tokenizer else None,
    )


def same_model(a: str, b: str) -> bool:
    """Whether two model references name the same model (paths compared once resolved)."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        return pa.is_dir() and pb.is_dir() and pa.resolve() == pb.resolve()
    except OSError:
        return False


def check_fits(info: AdapterInfo, base: BaseConfig, *, dora: bool = True) -> None:
    """Refuse an adapter this base cannot serve as it was trained, naming both (and a DoRA
    adapter when the engine cannot serve DoRA at all: ``dora=False``)."""
    if info.dora and not dora:
        raise AdapterRefused(
            f"adapter {info.name!r} uses DoRA, which this engine cannot serve; merge it into its "
            "base (ftbridge_local.export_model) and serve the result with --base, or serve it "
            "with --engine transformers (DoRA adapters are decoded in batches of their own there)"
        )
    if info.base_model is not None and not same_model(info.base_model, base.model):
        raise AdapterRefused(
            f"adapter {info.name!r} was trained on {info.base_model}, but this server's base is "
            f"{base.model}; serve it on its own base (--base {info.base_model})"
        )
    if info.quantized is not None and info.quantized != base.quantized:
        trained = "the 4-bit NF4 base (QLoRA)" if info.quantized else "the unquantised base"
        raise AdapterRefused(
            f"adapter {info.name!r} was trained on {trained} of {info.base_model}, but this "
            f"server holds {base.describe()}; serve it from a server started with it"
        )


class AdapterRegistry:
    """Known adapters by name, and the ones loaded into the model (least recently used first).

    ``model`` is the plain base while no adapter is loaded and a ``PeftModel`` otherwise. Every
    method that touches the model must be called with ``lock`` held (the batch loop holds it
    for each batch), so weights never change under a running forward pass.
    """

    def __init__(self, base_model: Any, base: BaseConfig, max_loaded: int) -> None:
        self.model = base_model
        self.base = base
        self.max_loaded = max_loaded
        self.lock = threading.RLock()
        self.known: dict[str, AdapterInfo] = {}
        self._loaded: OrderedDict[str, str] = OrderedDict()  # client name -> PEFT slot name
        self._slots = 0
        self._pending = (
            0  # add/remove calls waiting for the lock: running batches take no more rows
        )
        self._pending_lock = threading.Lock()
        self.loads = 0  # adapters read from disk, reloads included

    @property
    def pending(self) -> int:
        """How many loads or unloads wait for the running batch to end."""
        return self._pending

    @contextlib.contextmanager
    def _waiting_for_lock(self) -> Iterator[None]:
        with self._pending_lock:
            self._pending += 1
        try:
            self.lock.acquire()
        finally:
            with self._pending_lock:
                self._pending -= 1
        try:
            yield
        finally:
            self.lock.release()

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def loaded(self) -> list[str]:
        """Loaded adapter names, least recently used first."""
        return list(self._loaded)

    def add(self, info: AdapterInfo) -> None:
        """Accept and load an adapter (``AdapterRefused`` when it does not fit this base)."""
        if info.name in self.known or info.name == self.base.model:
            raise AdapterRefused(f"an adapter named {info.name!r} is already loaded")
        check_fits(info, self.base)
        with self._waiting_for_lock():
            self.known[info.name] = info
            try:
                self.ensure([info.name])
            except Exception as exc:
                self.known.pop(info.name, None)
                raise AdapterRefused(f"adapter {info.name!r} could not be loaded: {exc}") from exc

    def remove(self, name: str) -> None:
        with self._waiting_for_lock():
            if name not in self.known:
                raise KeyError(name)
            if name in self._loaded:
                self._evict(name)
            del self.known[name]

    def slot(self, name: str | None) -> str:
        """The PEFT adapter name a row uses (``__base__`` for the base model)."""
        return BASE_ADAPTER if name is None else self._loaded[name]

    def ensure(self, names: list[str]) -> None:
        """Load ``names`` (at most ``max_loaded``), unloading the least recently used others."""
        with self.lock:
            wanted = list(dict.fromkeys(names))
            if len(wanted) > self.max_loaded:
                raise ValueError(
                    f"{len(wanted)} adapters asked for, max_loaded is {self.max_loaded}"
                )
            for name in wanted:
                if name in self._loaded:
                    self._loaded.move_to_end(name)
                    continue
                while len(self._loaded) >= self.max_loaded:
                    victim = next(n for n in self._loaded if n not in wanted)
                    self._evict(victim)
                self._load(self.known[name])

    def _load(self, info: AdapterInfo) -> None:
        import torch

        # Whoever calls, the weights are ordinary tensors: PEFT sets requires_grad on them when
        # another adapter is deleted, which inference tensors refuse.
        with torch.inference_mode(False):
            self._load_weights(info)

    def _load_weights(self, info: AdapterInfo) -> None:
        from peft import PeftModel

        self._slots += 1
        slot = f"adapter{self._slots}"  # client names may hold characters module names cannot
        if isinstance(self.model, PeftModel):
            try:
                self.model.load_adapter(str(info.path), adapter_name=slot, is_trainable=False)
            except BaseException:
                if slot in self.model.peft_config:  # half injected: take it out again
                    with contextlib.suppress(Exception):
                        self.model.delete_adapter(slot)
                raise
        else:
            self.model = PeftModel.from_pretrained(
                self.model, str(info.path), adapter_name=slot, is_trainable=False
            )
        self.model.eval()
        self._loaded[info.name] = slot
        self.loads += 1

    def _evict(self, name: str) -> None:
        slot = self._loaded.pop(name)
        if self._loaded:
            with warnings.catch_warnings():  # "adapter X was active": rows name their adapter
                warnings.filterwarnings("ignore", message=".*was active which is now deleted")
                self.model.delete_adapter(slot)
        else:
            # PEFT cannot run with no adapter left: take the LoRA layers out, back to the base.
            self.model = self.model.unload()
