"""The typed fast path gives exactly the report the detailed checks give.

Each case validates the same file three times: with the compiled checker, with the Python fast
path alone, and with the detailed checks alone (each with a fresh home, so the cache cannot
answer), and compares the whole reports: findings with their messages, counts, statistics,
verdicts.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftbridge.validation import (
    _compiled,
    _fast,
    check,
)
from ftbridge.validation._chat import ChatContext, check_messages

from .conftest import GOLDEN, chat, write_lines


def both_reports(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fast, detailed) reports; the fast one is the same with and without the compiled path."""
    out = []
    for name, fast, compiled in (
        ("compiled", True, True),
        ("fast", True, False),
        ("detailed", False, False),
    ):
        monkeypatch.setattr(_fast, "ENABLED", fast)
        monkeypatch.setattr(_compiled, "ENABLED", compiled)
        monkeypatch.setenv("FTBRIDGE_HOME", str(tmp_path / f"home-{name}"))
        out.append(check(path).report.model_dump())
    assert out[0] == out[1], "the compiled checker and the Python fast path disagree"
    return out[1], out[2]


def _call(cid: str, name: str = "lookup", arguments: str = '{"q": 1}') -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tricky() -> list[Any]:
    u = {"role": "user", "content": "Where is my order?"}
    a = {"role": "assistant", "content": "It ships tomorrow."}
    s = {"role": "system", "content": "Be brief."}
    calls = {"role": "assistant", "tool_calls": [_call("c1")]}
    answer = {"role": "tool", "tool_call_id": "c1", "content": '{"ok": true}'}
    recs: list[Any] = [
        chat(1),
        {"messages": [s, u, calls, answer, a]},
        {"messages": [s, u, {**calls, "content": None}, answer, a]},
        {"messages": [u, {**calls, "weight": 0}, answer, {**a, "weight": 1}]},
        {
            "messages": [
                u,
                {"role": "assistant", "weight": 1, "tool_calls": [_call("c1")]},
                answer,
                a,
            ]
        },
        {
            "messages": [
                u,
                {"role": "assistant", "tool_calls": [_call("c1"), _call("c2")]},
                answer,
                {"role": "tool", "tool_call_id": "c2", "content": "2"},
                a,
            ]
        },
        {"messages": [u, {**a, "weight": 0}, u, {**a, "weight": 1}]},
        {"messages": [u, {**a, "weight": 0}]},  # nothing trainable
        {"messages": [s, u]},  # no assistant
        {"messages": [u, u, a, a]},  # consecutive turns
        {"messages": [u, a, s, u, a]},  # system not first
        {"messages": [a, u, a]},  # first turn not the user's
        {"messages": [s, a, u, a]},
        {"messages": [s, s, u, a]},
        {"messages": [s]},
        {
            "messages": [
                u,
                {"role": "assistant", "tool_calls": [_call("c1"), _call("c1")]},
                answer,
                a,
            ]
        },
        {
            "messages": [
                u,
                {"role": "assistant", "tool_calls": [_call("c1", arguments="{no")]},
                answer,
                a,
            ]
        },
        {"messages": [u, answer, a]},  # tool before any call
        {"messages": [u, calls, {**answer, "tool_call_id": "zz"}, a]},
        {"messages": [u, {"role": "assistant", "content": ""}]},
        {"messages": [u, {"role": "assistant", "content": None}]},
        {
            "messages": [
                u,
                {"role": "assistant", "content": "", "tool_calls": [_call("c1")]},
                answer,
                a,
            ]
        },
        {"messages": [u, {"role": "assistant", "tool_calls": []}, a]},
        {
            "messages": [
                u,
                {"role": "assistant", "tool_calls": [{**_call("c1"), "x": 1}]},
                answer,
                a,
            ]
        },
        {"messages": [u, {**a, "weight": 2}]},
        {"messages": [u, {**a, "weight": True}]},
        {"messages": [u, {**a, "weight": 1.0}]},
        {"messages": [{**u, "name": "ann"}, a]},
        {"messages": [{"role": "developer", "content": "x"}, u, a]},
        {"messages": [u, {**a, "refusal": "no"}]},
        {"messages": [u, a], "tools": []},
        {"messages": [u, {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}]},
        b'{"messages": [{"role": "user", "content": "a", "content": ""}, '
        b'{"role": "assistant", "content": "b"}]}\n',
        b'{"messages": [{"role": "user", "content": "", "content": "a"}, '
        b'{"role": "assistant", "content": "b"}]}\n',
        b'{"messages": [{"role": "user", "content": "a\\ud800"}, {"role": "assistant", "content": "b"}]}\n',
        b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "b"}]}\n',
        b"\n",
        b"[1]\n",
        chat(1),  # a duplicate
    ]
    return recs


def test_tricky_records_same_report(
    picky: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path / "tricky.jsonl", _tricky())
    fast, slow = both_reports(path, tmp_path, monkeypatch)
    assert fast == slow
    # not examples: the blank line, [1], the invalid UTF-8 and the lone surrogate
    assert fast["error_count"] > 0 and fast["stats"]["examples"] == len(_tricky()) - 4


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.jsonl")), ids=lambda p: p.stem)
def test_golden_inputs_same_report(
    path: Path, picky: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both_reports(path, tmp_path, monkeypatch)
    assert fast == slow


def _generated(n: int, bad_every: int, seed: int = 7) -> Iterator[Any]:
    """Realistic chat examples (system prompts, tool calls, weights), some of them broken."""
    rng = random.Random(seed)
    words = [
        "the",
        "order",
        "ships",
        "refund",
        "café",
        "東京",
        "data",
        "🙂",
        "token",
        "adapter",
        "latency",
    ]

    def text(k: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, k)))

    for i in range(1, n + 1):
        msgs: list[dict[str, Any]] = []
        if rng.random() < 0.6:
            msgs.append({"role": "system", "content": text(20)})
        turns = rng.choice((1, 1, 2, 3))
        for t in range(turns):
            msgs.append({"role": "user", "content": text(40)})
            if rng.random() < 0.2:
                cid = f"call_{i}_{t}"
                msgs.append(
                    {
                        "role": "assistant",
                        "tool_calls": [_call(cid, arguments=json.dumps({"q": text(3)}))],
                    }
                )
                msgs.append({"role": "tool", "tool_call_id": cid, "content": text(10)})
            reply: dict[str, Any] = {"role": "assistant", "content": text(60)}
            if turns > 1 and rng.random() < 0.3:
                reply["weight"] = 1 if t == turns - 1 else rng.choice((0, 1))
            msgs.append(reply)
        rec: Any = {"messages": msgs}
        if i % bad_every == 0:
            breakers = (
                lambda r: b"{not json\n",
                lambda r: {"messages": [m for m in r["messages"] if m["role"] != "assistant"]},
                lambda r: {"messages": [*r["messages"], {"role": "wizard", "content": "hi"}]},
                lambda r: {"messages": [{"role": "user"}, *r["messages"]]},
                lambda r: {"messages": [{**r["messages"][0], "colour": "red"}, *r["messages"][1:]]},
                lambda r: {"messages": []},
            )
            rec = rng.choice(breakers)(rec)
        elif i % 97 == 0:
            rec = {"messages": msgs[:1] + msgs}  # a repeated first message: consecutive turns
        yield rec
        if i % 331 == 0:
            yield rec  # an exact duplicate


def test_generated_dataset_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "gen.jsonl", _generated(4000, bad_every=50))
    fast, slow = both_reports(path, tmp_path, monkeypatch)
    assert fast == slow
    assert fast["stats"]["duplicates"] > 0 and fast["error_count"] >= 4000 // 50


def test_fast_path_takes_the_common_record_and_refuses_a_faulty_one() -> None:
    ctx = ChatContext(frozenset())
    ff = _fast.FastFeatures(frozenset())
    good = chat(3)
    expected = check_messages(good["messages"], ChatContext(frozenset()), "messages", True)
    assert _fast.check_fast(_fast.decode_chat(orjson.dumps(good)), ctx, ff) == expected
    no_reply = orjson.dumps({"messages": [{"role": "user", "content": "hi"}]})
    assert _fast.check_fast(_fast.decode_chat(no_reply), ctx, ff) is None
    with pytest.raises(_fast.DecodeError):
        _fast.decode_chat(orjson.dumps({"messages": [{"role": "user", "content": ""}]}))
