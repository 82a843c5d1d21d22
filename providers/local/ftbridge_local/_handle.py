"""Talking to a locally fine-tuned model: base + adapter, loaded the way they were trained.

::

    from ftbridge_local import load_model

    with load_model("~/.ftbridge/runs/ft-0123456789abcdef") as model:
        print(model.chat([{"role": "user", "content": "hi"}], max_tokens=20).text)
        replies = model.chat_batch([[{"role": "user", "content": q}] for q in questions])
        model.export("./merged")          # merged into the dequantised base, safetensors

The chat template is the one saved with the run (the exact text used in training), so training
and inference render conversations identically.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ftbridge._exceptions import InferenceError
from ftbridge._models import ChatResult, Usage
from ftbridge._provider import Generation, Message, ModelHandle

from ._modeling import keep_4bit_layers_differentiable, load_base, quiet_loading
from ._runs import MODEL_META


def model_dir_of(path: str | Path) -> Path:
    """Accept a run directory or its ``model/`` directory."""
    path = Path(path).expanduser()
    if (path / "model" / MODEL_META).is_file():
        return path / "model"
    if (path / MODEL_META).is_file():
        return path
    raise FileNotFoundError(f"no trained model in {path} (expected {MODEL_META})")


def _meta_of(path: Path) -> tuple[Path, dict[str, Any]]:
    """A run's model and how it was trained, or a plain Hugging Face model directory as is."""
    try:
        model_dir = model_dir_of(path)
    except FileNotFoundError:
        if not (path / "config.json").is_file():
            raise
        return path, {"method": "full", "compute_dtype": "bfloat16", "run_id": None}
    return model_dir, json.loads((model_dir / MODEL_META).read_text())


def _cut(text: str, stops: list[str]) -> tuple[str, bool]:
    """The text before the first stop sequence (which is not included), and whether one hit."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class LocalModelHandle(ModelHandle):
    """A fine-tuned local model in memory. ``close()`` (or ``with``) frees it."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir, self.meta = _meta_of(Path(model_dir).expanduser())
        self.name = str(self.meta.get("run_id") or self.model_dir)
        self._model: Any = None
        self.tokenizer: Any = None
        with quiet_loading():
            self._load()

    # -- loading ------------------------------------------------------------------------------

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        meta = self.meta
        trust = bool(meta.get("trust_remote_code"))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = meta["compute_dtype"] if device == "cuda" else "float32"
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, trust_remote_code=trust)
        self.tokenizer.padding_side = "left"  # batched generation continues each row's end
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if meta["method"] == "full":
            self._model = AutoModelForCausalLM.from_pretrained(
                self.model_dir,
                dtype=getattr(torch, dtype),
                trust_remote_code=trust,
                device_map={"": 0} if device == "cuda" else None,
            )
        else:
            from peft import PeftModel

            base = load_base(
                meta["base_model"],
                method=meta["method"],
                dtype_name=dtype,
                device=device,
                trust_remote_code=trust,
            )
            if device == "cpu":
                # Compute as in training (float32 on dequantised NF4), not through bitsandbytes'
                # bf16 CPU inference kernel, whose rounding would make replies drift from it.
                keep_4bit_layers_differentiable(base)
            self._model = PeftModel.from_pretrained(base, self.model_dir)
        self._model.eval()

    @property
    def model(self) -> Any:
        if self._model is None:
            raise InferenceError(f"model {self.name} is closed")
        return self._model

    # -- generation ---------------------------------------------------------------------------

    def _encode(self, conversations: Sequence[Sequence[Message]]) -> Any:
        texts = [
            self.tokenizer.apply_chat_template(
                [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
            )
            for messages in conversations
        ]
        batch = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
            return_token_type_ids=False,  # older tokenizers add them; generate() refuses them
        )
        return batch.to(self.model.device)

    def _generate_kwargs(self, params: Generation) -> dict[str, Any]:
        import torch

        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens or 256,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
        }
        if params.temperature is not None and params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p or 1.0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        return kwargs

    def chat_batch(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
    ) -> list[ChatResult]:
        """One reply per conversation, generated together in one padded batch."""
        params = Generation.of(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed
        )
        return self._chat_batch(conversations, params)

    def _chat_batch(
        self, conversations: Sequence[Sequence[Message]], params: Generation
    ) -> list[ChatResult]:
        import torch

        if not conversations:
            return []
        stops = list(params.stop)
        try:
            batch = self._encode(conversations)
            kwargs = self._generate_kwargs(params)
            with torch.inference_mode():
                out = self.model.generate(**batch, **kwargs)
        except InferenceError:
            raise
        except Exception as exc:
            raise InferenceError(f"generation failed: {exc}") from exc
        width = batch["input_ids"].shape[1]
        results = []
        for row, prompt_mask in zip(out, batch["attention_mask"], strict=True):
            new = row[width:].tolist()
            ended = self.tokenizer.eos_token_id in new
            if ended:
                new = new[: new.index(self.tokenizer.eos_token_id)]
            new = [t for t in new if t != self.tokenizer.pad_token_id]
            text, hit = _cut(self.tokenizer.decode(new, skip_special_tokens=True), stops)
            prompt_tokens = int(prompt_mask.sum())
            results.append(
                ChatResult(
                    text=text,
                    finish_reason="stop" if ended or hit else "length",
                    usage=Usage(
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(new),
                        total_tokens=prompt_tokens + len(new),
                    ),
                    raw={"token_ids": new},
                )
            )
        return results

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        return self._chat_batch([messages], params)[0]

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        """The reply in pieces as it is generated (the stop sequence is never yielded)."""
        from transformers import TextIteratorStreamer

        stops = list(params.stop)
        batch = self._encode([messages])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self._generate_kwargs(params)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.model.generate(**batch, **kwargs, streamer=streamer)
            except BaseException as exc:  # surfaced in the caller's thread below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        text, sent = "", 0
        hold = max((len(s) for s in stops), default=0)
        for piece in streamer:
            text += piece
            cut, hit = _cut(text, stops)
            # Hold back as many characters as a stop sequence could still need.
            upto = len(cut) if hit else max(sent, len(text) - hold)
            if upto > sent:
                yield text[sent:upto]
                sent = upto
            if hit:
                break
        thread.join()
        if errors:
            raise InferenceError(f"generation failed: {errors[0]}") from errors[0]
        cut, _ = _cut(text, stops)
        if len(cut) > sent:
            yield cut[sent:]

    # -- export and cleanup -------------------------------------------------------------------

    def export(self, path: str | Path, *, merge: bool = True) -> Path:
        """Save the model to ``path``; see :func:`ftbridge_local.export_model`."""
        from ._export import export_model

        return export_model(self.model_dir, path, merge=merge)

    def close(self) -> None:
        if self._model is None:
            return
        self._model = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass


def load_model(path: str | Path) -> LocalModelHandle:
    """A handle on the model of a run directory (or its ``model/`` directory).

    A plain Hugging Face model directory works too, which is how to talk to a base model
    before fine-tuning it.
    """
    return LocalModelHandle(path)
