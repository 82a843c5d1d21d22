"""Exact token counts and chat-template checks with a real (tiny, offline) tokenizer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ftbridge import ConfigError
from ftbridge.validation import check, check_with_tokenizer, validate

from .conftest import chat

TEMPLATE = (
    "{% for m in messages %}"
    "{% if loop.index0 > 0 and m['role'] == messages[loop.index0 - 1]['role'] %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}"
    "<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
)


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    vocab = ["<unk>", "<|im_start|>", "<|im_end|>", "system", "user", "assistant"]
    model = tokenizers.models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>")
    tok = tokenizers.Tokenizer(model)
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")
    hf.chat_template = TEMPLATE
    return hf


def _rec(*turns: tuple[str, str]) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in turns]}


def test_exact_counts_with_the_models_template(tmp_jsonl: Any, tokenizer: Any) -> None:
    path = tmp_jsonl([_rec(("user", "one two three"), ("assistant", "four five"))])
    ds = validate(path, tokenizer=tokenizer)
    # <|im_start|> user one two three <|im_end|> = 6 tokens, then 5 for the reply
    assert ds.stats.tokens_exact and ds.stats.total_tokens == 11
    assert ds.stats.trainable_tokens == 2
    assert "tokenizer" in ds.stats.tokenizer


def test_template_failure_and_length_go_to_the_local_verdict(
    tmp_jsonl: Any, tokenizer: Any
) -> None:
    ok = _rec(("user", "a b"), ("assistant", "c"))
    twice = _rec(("user", "a"), ("user", "b"), ("assistant", "c"))
    long = _rec(("user", "a " * 30), ("assistant", "c"))
    path = tmp_jsonl([ok, twice, long])
    ds = check(path, tokenizer=tokenizer, max_length=20, provider="local")
    local = ds.verdicts["local"]
    assert not local.valid and not ds.valid
    assert [(f.line, f.code) for f in local.errors] == [(2, "tokenizer.template_failed")]
    assert "alternate" in local.errors[0].message
    assert (3, "tokenizer.too_long") in [(f.line, f.code) for f in local.warnings]
    assert ds.verdicts["openai"].error_count == 1  # only "too few examples": templates are local


def test_check_with_tokenizer_directly(tmp_jsonl: Any, tokenizer: Any) -> None:
    ds = validate(tmp_jsonl([chat(0), chat(1)]))
    assert check_with_tokenizer(ds, tokenizer, max_length=1000) == []
    findings = check_with_tokenizer(ds, tokenizer, max_length=5)
    assert [(f.line, f.code) for f in findings] == [
        (1, "tokenizer.too_long"),
        (2, "tokenizer.too_long"),
    ]
    bare = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer, unk_token="<unk>")
    assert [f.code for f in check_with_tokenizer(ds, bare)] == ["tokenizer.no_template"]


def test_tiktoken_is_not_downloaded(
    tmp_jsonl: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftbridge.validation import _encodings

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(_encodings, "DATA_PACKAGES", ())  # as without ftbridge[tokens]
    _encodings.load.cache_clear()
    path = tmp_jsonl([chat(0)])
    assert check(path).stats.tokens_exact is False  # no encoding at hand: the estimate, labelled
    with pytest.raises(ConfigError, match="not installed"):
        check(path, tokenizer="o200k_base")
    with pytest.raises(ConfigError, match="unknown tokenizer"):
        check(path, tokenizer="gpt2-ish")
    _encodings.load.cache_clear()


def test_import_stays_light() -> None:
    code = (
        "import sys, ftbridge, ftbridge.validation, ftbridge.cli._validate\n"
        "ftbridge.validate\n"
        "heavy = {'tiktoken', 'transformers', 'tokenizers', 'torch', 'openai', 'together'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
