"""Token counts: OpenAI's encodings offline (ftbridge[tokens]), the estimate, one cost figure."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ftbridge import ConfigError, Hyperparameters, JobSpec
from ftbridge._models import DatasetRef
from ftbridge.cli import main
from ftbridge.validation import _encodings, _estimate, check, validate

from .conftest import chat

CJK = "我们的退货政策允许客户在收到商品后三十天内申请退款。"
CODE = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def no_encodings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """As without ftbridge[tokens]: no package ships the files, tiktoken's cache is empty."""
    monkeypatch.setattr(_encodings, "DATA_PACKAGES", (("no_such_package_here", "data"),))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    _encodings.load.cache_clear()
    yield
    _encodings.load.cache_clear()


def test_the_encodings_load_offline_with_tiktokens_token_ids() -> None:
    o200k, cl100k = _encodings.load("o200k_base"), _encodings.load("cl100k_base")
    # the ids tiktoken's own encodings give (its README's example string)
    assert o200k.encode_ordinary("hello world") == [24912, 2375]
    assert cl100k.encode_ordinary("hello world") == [15339, 1917]
    assert o200k.encode_ordinary("Where is my order?") == [11977, 382, 922, 2569, 30]
    assert len(o200k.encode_ordinary(CJK)) == 16 and len(cl100k.encode_ordinary(CJK)) == 28
    assert len(o200k.encode_ordinary(CODE)) == 12 == len(cl100k.encode_ordinary(CODE))


def test_exact_counts_follow_openais_message_rule(tmp_jsonl: Any) -> None:
    rec = {"messages": [{"role": "user", "content": CJK}, {"role": "assistant", "content": CODE}]}
    ds = validate(tmp_jsonl([rec]), tokenizer="o200k_base")
    # 3 per message, its values (the role is one token), 3 to prime the reply
    assert ds.stats.total_tokens == (3 + 1 + 16) + (3 + 1 + 12) + 3
    assert ds.stats.trainable_tokens == 12
    assert ds.stats.tokens_exact and ds.stats.tokenizer == "o200k_base (exact)"
    cl = validate(tmp_jsonl([rec], "cl.jsonl"), tokenizer="cl100k_base")
    assert cl.stats.total_tokens == (3 + 1 + 28) + (3 + 1 + 12) + 3


def test_validating_for_openai_counts_with_its_encoding(tmp_jsonl: Any) -> None:
    path = tmp_jsonl([chat(i) for i in range(12)])
    plain = check(path)
    assert not plain.stats.tokens_exact and plain.stats.tokenizer.startswith("estimate")
    for_openai = check(path, provider="openai")
    assert for_openai.stats.tokens_exact and for_openai.stats.tokenizer == "o200k_base (exact)"
    assert "counted with o200k_base (exact)" in for_openai.report.summary()
    assert check(path, provider="openai", tokenizer="estimate").stats.tokens_exact is False


def test_without_the_package_the_estimate_is_used_and_named(
    tmp_jsonl: Any, no_encodings: None
) -> None:
    path = tmp_jsonl([chat(i) for i in range(12)])
    ds = check(path, provider="openai")
    assert ds.stats.tokens_exact is False and ds.stats.tokenizer.startswith("estimate")
    with pytest.raises(ConfigError, match=r"ftbridge\[tokens\]"):
        check(path, tokenizer="o200k_base")


def test_a_file_that_is_not_openais_is_refused(
    tmp_jsonl: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "pkgs" / "fake_encodings"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "o200k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    monkeypatch.setattr(_encodings, "DATA_PACKAGES", (("fake_encodings", "data"),))
    _encodings.load.cache_clear()
    try:
        with pytest.raises(ConfigError, match="sha256 differs"):
            check(tmp_jsonl([chat(0)]), tokenizer="o200k_base")
    finally:
        _encodings.load.cache_clear()
    assert "fake_encodings" not in sys.modules  # found, never imported


def test_exact_counts_are_the_same_across_worker_processes(
    tmp_jsonl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftbridge.validation import _run

    records = [
        {
            "messages": [
                {"role": "user", "content": f"{CJK} {i}"},
                {"role": "assistant", "content": CODE * (i % 5 + 1)},
            ]
        }
        for i in range(600)
    ]
    path = tmp_jsonl(records)
    single = check(path, tokenizer="o200k_base").report
    monkeypatch.setattr(_run, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(_run, "RANGE_BYTES", 20_000)
    monkeypatch.setattr(_run, "_workers", lambda size, cfg: 2)
    path2 = path.with_name("again.jsonl")
    path2.write_bytes(path.read_bytes() + b"\n")
    parallel = check(path2, tokenizer="o200k_base").report
    assert parallel.stats.total_tokens == single.stats.total_tokens
    assert parallel.stats.trainable_tokens == single.stats.trainable_tokens
    assert parallel.stats.tokens == single.stats.tokens


def test_the_cli_names_the_counter(tmp_jsonl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_jsonl([chat(i) for i in range(12)])
    assert main(["validate", str(path), "--tokenizer", "cl100k_base"]) == 0
    assert "counted with cl100k_base (exact)" in capsys.readouterr().out
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tokens: ~" in out and "counted with estimate" in out
    assert main(["validate", str(path), "--tokenizer", "nosuch"]) == 2
    assert "unknown tokenizer" in capsys.readouterr().err


# -- one cost estimate --------------------------------------------------------------------------


def _openai_preflight(ds: Any, **hyperparameters: Any) -> Any:
    from ftbridge_openai import OpenAIProvider

    provider = OpenAIProvider(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    spec = JobSpec(
        provider="openai",
        model="gpt-4o-mini",
        training=DatasetRef(
            path=str(ds.path), sha256=ds.sha256, format="chat", example_count=ds.example_count
        ),
        hyperparameters=Hyperparameters(**hyperparameters),
        idempotency_key="ftb-test-key-0001",
    )
    return provider.preflight(ds, spec)


def test_openai_cost_uses_validations_billing_capped_figure(tmp_jsonl: Any) -> None:
    long = {
        "messages": [
            {"role": "user", "content": "word " * 20_000},
            {"role": "assistant", "content": "ok"},
        ]
    }
    ds = check(tmp_jsonl([*(chat(i) for i in range(11)), long]), provider="openai")
    verdict = ds.verdicts["openai"].estimate
    assert verdict is not None
    billed = verdict["billing_tokens_per_epoch"]
    assert billed < ds.stats.total_tokens  # the long example counts up to 16,385 tokens
    pre = _openai_preflight(ds)
    est = pre.estimates
    assert not any("estimate" in w for w in pre.warnings)
    assert est["epochs"] == verdict["default_epochs"] == 100 // 12
    assert est["billable_tokens"] == verdict["charged_tokens"] == billed * est["epochs"]
    assert est["estimated_cost_usd"] == round(billed * est["epochs"] * 3.0 / 1e6, 2)
    assert est["token_counter"] == "o200k_base (exact)"
    chosen = _openai_preflight(ds, epochs=2).estimates
    assert chosen["epochs"] == 2 and chosen["billable_tokens"] == 2 * billed
    # validated without OpenAI's encoding: the same figure, estimated, and said so
    rough = _openai_preflight(check(ds.path, tokenizer="estimate"))
    assert rough.estimates["token_counter"].startswith("estimate")
    assert any("estimates" in w and "provider='openai'" in w for w in rough.warnings)


# -- the estimate without a tokenizer ----------------------------------------------------------

ENGLISH = (
    "Fine-tuning a language model on your own support conversations teaches it the tone, "
    "the product names and the answers your customers expect. Keep each example short and "
    "focused, and make sure the assistant's reply is the one you want it to learn."
)
CHINESE = (
    "我们的退货政策允许客户在收到商品后三十天内申请退款。"
    "请保留原始包装和购物凭证，以便我们尽快处理您的请求。"
)
JAPANESE = (
    "ご注文の商品は明日発送されます。配送状況は、マイページの注文履歴からいつでも確認できます。"
)
KOREAN = (
    "주문하신 상품은 내일 발송될 예정입니다. "
    "배송 상태는 마이페이지의 주문 내역에서 언제든지 확인하실 수 있습니다."
)
PYTHON = '''def merge(results, *, path, size):
    """One report from the per-range results (in file order)."""
    counts = {}
    for res in results:
        for code, n in res.counts.items():
            counts[code] = counts.get(code, 0) + n
    if not counts:
        return None
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
'''
#: The estimate stays within this fraction of o200k_base's count for each sample.
TOLERANCE = 0.30


@pytest.mark.parametrize(
    "text",
    [ENGLISH, CHINESE, JAPANESE, KOREAN, PYTHON],
    ids=["english", "chinese", "japanese", "korean", "code"],
)
def test_the_estimate_is_within_its_tolerance(text: str, tmp_jsonl: Any) -> None:
    exact = len(_encodings.load("o200k_base").encode_ordinary(text))
    assert abs(_estimate.units(text) / 4 - exact) <= TOLERANCE * exact
    # the same through a whole report, compiled checker or not
    rec = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": text}]}
    path = tmp_jsonl([rec])
    estimated = check(path).stats
    counted = check(path, tokenizer="o200k_base").stats
    assert not estimated.tokens_exact
    assert abs(estimated.trainable_tokens - counted.trainable_tokens) <= TOLERANCE * exact
    assert abs(estimated.total_tokens - counted.total_tokens) <= TOLERANCE * counted.total_tokens


def test_cjk_is_no_longer_counted_at_four_characters_a_token() -> None:
    o200k = _encodings.load("o200k_base")
    for text in (CHINESE, JAPANESE, KOREAN):
        exact = len(o200k.encode_ordinary(text))
        assert len(text) / 4 < 0.5 * exact  # what characters/4 said
        assert _estimate.units(text) / 4 > 0.9 * exact


def test_estimate_units_by_character() -> None:
    assert _estimate.units("abcd") == 4  # a token
    assert _estimate.units("中文") == 6  # 3/4 token each
    assert _estimate.units("a\nb") == 7  # a line break is a token more
    assert _estimate.units("é ж") == 3  # other scripts as Latin
    assert _estimate.units("\U0001f642") == 3
    assert _estimate.tokens(_estimate.units("abcd" * 10), 2) == 10 + 3 * 2 + 3
