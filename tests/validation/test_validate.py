"""The public API: sources, verdicts, statistics, errors raised, the cache, big and odd lines."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import ftbridge
from ftbridge import DatasetReadError, DatasetValidationError
from ftbridge.validation import (
    ProfileRule,
    ProviderProfile,
    _run,
    check,
    register_profile,
    to_chat,
    unregister_profile,
    validate,
    write_jsonl,
)

from .conftest import chat


def test_valid_file_returns_dataset_with_ref(tmp_jsonl: Any) -> None:
    path = tmp_jsonl([chat(i) for i in range(12)])
    ds = ftbridge.validate(path, provider="openai")
    assert ds.valid and ds.format == "chat" and ds.example_count == 12
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.path == path
    ref = ds.ref()
    assert (ref.path, ref.sha256, ref.format, ref.example_count) == (
        str(path),
        ds.sha256,
        "chat",
        12,
    )
    assert set(ds.verdicts) >= {"openai", "together", "local"}
    assert all(v.valid for v in ds.verdicts.values())


def test_invalid_raises_with_report_naming_line_and_loc(tmp_jsonl: Any) -> None:
    bad = {"messages": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "x"}]}
    path = tmp_jsonl([chat(0), bad, chat(2)])
    with pytest.raises(DatasetValidationError) as info:
        validate(path)
    report = info.value.report
    assert not report.valid
    codes = {(f.line, f.loc, f.code) for f in report.errors}
    assert (2, "messages[1].role", "chat.role_unknown") in codes
    assert "data.jsonl:2: messages[1].role" in str(info.value)


def test_provider_profile_decides_when_named(tmp_jsonl: Any) -> None:
    # consecutive user turns: fine for OpenAI, refused by Together
    rec = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
        ]
    }
    path = tmp_jsonl([rec] * 1 + [chat(i) for i in range(10)])
    ds = validate(path, provider="openai")
    assert ds.verdicts["openai"].valid and not ds.verdicts["together"].valid
    with pytest.raises(DatasetValidationError) as info:
        validate(path, provider="together")
    verdict = info.value.report.verdicts["together"]
    assert [(f.line, f.code) for f in verdict.errors] == [(1, "together.roles_alternate")]


def test_openai_needs_ten_examples_and_estimates_epochs(tmp_jsonl: Any) -> None:
    ds = check(tmp_jsonl([chat(i) for i in range(9)]), provider="openai")
    assert not ds.valid
    assert [f.code for f in ds.verdicts["openai"].errors] == ["openai.too_few_examples"]
    ds = validate(tmp_jsonl([chat(i) for i in range(12)], "twelve.jsonl"), provider="openai")
    est = ds.verdicts["openai"].estimate
    assert est is not None
    # the cookbook rule: 3 epochs, raised so that epochs * examples reaches 100
    assert est["default_epochs"] == 100 // 12
    assert est["charged_tokens"] == est["default_epochs"] * ds.stats.total_tokens


def test_unknown_provider_gets_generic_verdict_and_a_note(tmp_jsonl: Any) -> None:
    ds = validate(tmp_jsonl([chat(0)]), provider="fake")  # installed, with no profile
    assert ds.verdict("fake").valid
    assert [f.code for f in ds.report.warnings] == ["dataset.no_profile"]


def test_register_profile_gives_third_party_verdict(tmp_jsonl: Any) -> None:
    profile = ProviderProfile(
        name="acme",
        min_examples=2,
        rules={
            "role.tool": ProfileRule("acme.no_tools", "error", "acme cannot train on tool messages")
        },
    )
    register_profile(profile)
    try:
        tool = {
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c", "content": "r"},
                {"role": "assistant", "content": "a"},
            ]
        }
        ds = check(tmp_jsonl([chat(0), tool]), provider="acme")
        assert not ds.valid
        assert [(f.line, f.loc, f.code) for f in ds.verdicts["acme"].errors] == [
            (2, "messages[2].role", "acme.no_tools")
        ]
        with pytest.raises(ValueError):
            register_profile(profile)
    finally:
        unregister_profile("acme")


def test_stats(tmp_jsonl: Any) -> None:
    no_system = {
        "messages": [
            {"role": "user", "content": "x" * 400},
            {"role": "assistant", "content": "y" * 800},
        ]
    }
    path = tmp_jsonl([chat(1), chat(1), no_system])
    s = check(path).stats
    assert (s.examples, s.duplicates, s.without_system) == (3, 1, 1)
    assert s.tokens_exact is False and "estimate" in s.tokenizer
    assert s.messages.min == 2 and s.messages.max == 3
    assert s.trainable_tokens < s.total_tokens
    assert s.max_example_tokens == s.tokens.max
    # 1200 characters, 2 messages: ~300 tokens of text plus the per-message overhead
    assert s.tokens.max == 1200 // 4 + 3 * 2 + 3


def test_long_example_warns_about_truncation(tmp_jsonl: Any) -> None:
    long = {
        "messages": [
            {"role": "user", "content": "word " * 20_000},
            {"role": "assistant", "content": "ok"},
        ]
    }
    ds = check(tmp_jsonl([chat(0), long]))
    warning = [f for f in ds.verdicts["openai"].warnings if f.code == "openai.token_limit"]
    assert [f.line for f in warning] == [2]
    assert ds.stats.over_limit["openai"]["gpt-3.5-turbo-0125"] == 1
    assert ds.stats.over_limit["openai"]["gpt-4o-mini-2024-07-18"] == 0
    # billed up to 16,385 tokens per example
    est = ds.verdicts["openai"].estimate
    assert est is not None and est["billing_tokens_per_epoch"] < ds.stats.total_tokens


def test_max_length_applies_to_local(tmp_jsonl: Any) -> None:
    ds = check(tmp_jsonl([chat(0), chat(1)]), max_length=5)
    assert ds.stats.over_limit["local"] == {"max_length": 2}
    assert [f.code for f in ds.verdicts["local"].warnings] == ["local.token_limit"] * 2


def test_iterable_source_is_written_canonically(ftbridge_home: Path) -> None:
    rows = [{"prompt": "2+2?", "completion": "4"}, {"prompt": "3+3?", "completion": "6"}]
    ds = validate(iter(rows))
    assert ds.format == "instruction"
    assert ds.path.parent == ftbridge_home / "datasets"
    assert (
        ds.path.read_bytes()
        == b'{"prompt":"2+2?","completion":"4"}\n{"prompt":"3+3?","completion":"6"}\n'
    )
    assert ds.sha256 == hashlib.sha256(ds.path.read_bytes()).hexdigest()


def test_unserializable_record_is_a_read_error() -> None:
    with pytest.raises(DatasetReadError, match="record 2"):
        check([chat(0), {"messages": {1, 2}}])


def test_gzip_source(tmp_path: Path) -> None:
    raw = b"".join(json.dumps(chat(i)).encode() + b"\n" for i in range(3))
    gz = tmp_path / "train.jsonl.gz"
    gz.write_bytes(gzip.compress(raw))
    ds = validate(gz)
    assert ds.path.suffix == ".jsonl" and ds.path.read_bytes() == raw
    assert ds.sha256 == hashlib.sha256(raw).hexdigest()
    broken = tmp_path / "cut.jsonl.gz"
    broken.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(DatasetReadError, match="decompress"):
        check(broken)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_source(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "nope.jsonl" if kind == "missing" else tmp_path
    with pytest.raises(DatasetReadError):
        check(target)


def test_same_bytes_are_not_validated_twice(tmp_jsonl: Any, ftbridge_home: Path) -> None:
    path = tmp_jsonl([chat(i) for i in range(3)])
    calls: list[int] = []
    check(path, progress=lambda done, total: calls.append(done))
    assert calls  # scanned
    calls.clear()
    again = check(path, progress=lambda done, total: calls.append(done))
    assert calls == [] and again.valid  # answered from the cache
    copy = path.with_name("copy.jsonl")
    copy.write_bytes(path.read_bytes())
    from_copy = check(copy, progress=lambda done, total: calls.append(done))
    assert calls == [] and from_copy.path == copy  # same bytes elsewhere: still cached
    path.write_bytes(path.read_bytes() + b"{not json\n")
    changed = check(path, progress=lambda done, total: calls.append(done))
    assert calls and not changed.valid


def test_huge_line_is_a_finding_and_later_lines_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as f:
        f.write(json.dumps(chat(0)).encode() + b"\n")
        f.write(b'{"messages": [{"role": "user", "content": "' + b"x" * (50 << 20) + b'"}]}\n')
        f.write(b'{"messages": [{"role": "wizard", "content": "x"}]}\n')
    report = check(path).report
    assert [(f.line, f.code) for f in report.errors] == [
        (2, "line.too_long"),
        (3, "chat.no_assistant"),
        (3, "chat.role_unknown"),
    ]


def test_first_thousand_findings_in_full_all_counted(tmp_jsonl: Any) -> None:
    path = tmp_jsonl([b"{oops\n"] * 1500 + [chat(0)])
    report = check(path).report
    assert report.error_count == 1500 and len(report.errors) == 1000
    assert report.errors[-1].line == 1000
    assert report.counts["line.invalid_json"] == 1500
    assert report.stats.error_lines == 1500


def test_parallel_scan_matches_single_process(
    tmp_jsonl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[Any] = []
    for i in range(3000):
        if i % 97 == 5:
            records.append(b"{broken\n")
        elif i % 101 == 7:
            records.append({"messages": [{"role": "user", "content": "only a question"}]})
        elif i % 89 == 3:
            records.append(b"\n")
        else:
            records.append(chat(i % 700))  # repeats: duplicates across ranges
    path = tmp_jsonl(records)
    single = check(path, tokenizer="estimate").report
    monkeypatch.setattr(_run, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(_run, "RANGE_BYTES", 20_000)
    monkeypatch.setattr(_run, "_workers", lambda size, cfg: 2)
    path2 = path.with_name("again.jsonl")  # a new path and new bytes, so not from the cache
    path2.write_bytes(path.read_bytes() + b"\n")
    parallel = check(path2).report
    assert parallel.stats.lines == single.stats.lines + 1
    drop = lambda fs: [(f.line, f.loc, f.code) for f in fs]  # noqa: E731
    assert drop(parallel.errors) == drop(single.errors)
    assert drop(parallel.warnings) == drop(
        single.warnings
    )  # the first 1000; the extra blank is later
    assert parallel.warning_count == single.warning_count + 1
    assert parallel.stats.duplicates == single.stats.duplicates > 0
    assert parallel.stats.total_tokens == single.stats.total_tokens


def test_to_chat_and_write_jsonl(tmp_path: Path) -> None:
    rows = [{"prompt": "p", "completion": "c"}, {"text": "t"}]
    out = write_jsonl((to_chat(r, system="s") for r in rows), tmp_path / "chat.jsonl")
    ds = validate(out)
    assert ds.format == "chat" and ds.example_count == 2
    assert out.read_text().splitlines()[0] == (
        '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"p"},'
        '{"role":"assistant","content":"c"}]}'
    )
    with pytest.raises(ValueError):
        to_chat({"foo": 1})
