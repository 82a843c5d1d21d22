"""Generation: failures recorded, the cache, resuming, concurrency, retries, batching."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from eval_helpers import ScriptedHandle, last_user, record

import ftbridge
from ftbridge import ChatResult, Generation, InferenceError, ModelHandle, RateLimitError
from ftbridge.eval import GenerationCache, generate

DATA = [record(f"q{i}", f"a{i}") for i in range(12)]


def right(question: str) -> str:
    return "a" + question[1:]


def test_a_failed_generation_is_recorded_and_scored_zero() -> None:
    def flaky(q: str) -> str | BaseException:
        return InferenceError("the model is overloaded") if q in {"q3", "q7"} else right(q)

    handle = ScriptedHandle("flaky", flaky)
    report = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"], cache=False)
    assert report.mean("m", "exact") == pytest.approx(10 / 12)
    assert report.errors("m") == 2
    assert report.to_dict()["models"]["m"]["exact"]["errors"] == 2
    failed = [r for r in report.records if r["errors"]]
    assert [r["index"] for r in failed] == [3, 7]
    assert failed[0]["outputs"]["m"] is None
    assert failed[0]["errors"]["m"] == "the model is overloaded"
    assert "2 of 12 generations of m failed" in report.table()


def test_a_second_run_makes_no_calls() -> None:
    handle = ScriptedHandle("cached-model", right)
    first = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"])
    assert len(handle.calls) == 12
    again = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact", "f1"])
    assert len(handle.calls) == 12  # re-scoring with another scorer called nothing
    assert again.mean("m", "exact") == first.mean("m", "exact") == 1.0
    # other settings are other generations
    ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"], generation={"max_tokens": 5})
    assert len(handle.calls) == 24


def test_failures_are_not_cached() -> None:
    state = {"down": True}

    def sometimes(q: str) -> str | BaseException:
        return InferenceError("down") if state["down"] and q == "q0" else right(q)

    handle = ScriptedHandle("sometimes", sometimes)
    assert ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"]).errors("m") == 1
    state["down"] = False
    report = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"])
    assert report.errors("m") == 0
    assert handle.calls.count("q0") == 2 and len(handle.calls) == 13


def test_a_handle_without_a_name_is_not_cached() -> None:
    handle = ScriptedHandle("", right)
    report = ftbridge.evaluate({"anon": handle}, DATA, scorers=["exact"])
    ftbridge.evaluate({"anon": handle}, DATA, scorers=["exact"])
    assert len(handle.calls) == 24
    assert any("not cached" in s for s in report.sentences())
    assert report.to_dict()["meta"]["models"]["anon"]["cached"] is False


def test_an_interrupted_evaluation_resumes_where_it_stopped() -> None:
    def interrupted(q: str) -> str | BaseException:
        return KeyboardInterrupt() if q == "q5" and not done else right(q)

    done = False
    handle = ScriptedHandle("resumable", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"], concurrency=1)
    assert handle.calls == [f"q{i}" for i in range(6)]
    done = True
    report = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"], concurrency=1)
    assert handle.calls[6:] == [f"q{i}" for i in range(5, 12)]  # only what was missing
    assert report.mean("m", "exact") == 1.0


def test_remote_handles_run_concurrently() -> None:
    handle = ScriptedHandle("slow", right, latency=0.1)
    data = [record(f"q{i}", f"a{i}") for i in range(40)]
    started = time.monotonic()
    report = ftbridge.evaluate({"m": handle}, data, scorers=["exact"], concurrency=8, cache=False)
    elapsed = time.monotonic() - started
    assert report.mean("m", "exact") == 1.0
    assert handle.peak == 8
    assert elapsed < 40 * 0.1 / 2  # serially it would take 4 s; 8 at a time about 0.5 s


def test_rate_limits_are_retried_after_retry_after() -> None:
    hits: dict[str, int] = {}

    def limited(q: str) -> str | BaseException:
        hits[q] = hits.get(q, 0) + 1
        if hits[q] == 1:
            cause = RateLimitError("slow down", retry_after=0.2, provider="p")
            error = InferenceError(f"chat failed: {cause}")
            error.__cause__ = cause  # how provider handles chain their mapped error
            return error
        return right(q)

    handle = ScriptedHandle("limited", limited)
    started = time.monotonic()
    out = generate(handle, [r["messages"][:1] for r in DATA[:4]], concurrency=4, cache=False)
    assert [g.text for g in out] == ["a0", "a1", "a2", "a3"]
    assert all(n == 2 for n in hits.values())
    assert time.monotonic() - started >= 0.2


def test_generation_settings_reach_the_handle() -> None:
    handle = ScriptedHandle("settings", right)
    ftbridge.evaluate(
        {"m": handle},
        DATA[:1],
        scorers=["exact"],
        generation={"max_tokens": 7, "stop": ["\n"]},
        seed=5,
        cache=False,
    )
    assert handle.params == [Generation(max_tokens=7, temperature=0.0, stop=("\n",), seed=5)]


class BatchHandle(ModelHandle):
    """Has ``chat_batch``, as the local handle does: it must get batches, not threads."""

    name = "batched"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def _chat(self, messages: Sequence[Mapping[str, Any]], params: Generation) -> ChatResult:
        return ChatResult(text=right(last_user(messages)))

    def chat_batch(self, conversations: Sequence[Any], **settings: Any) -> list[ChatResult]:
        self.batches.append(len(conversations))
        return [self._chat(c, Generation()) for c in conversations]


def test_a_handle_with_chat_batch_gets_batches() -> None:
    handle = BatchHandle()
    report = ftbridge.evaluate({"m": handle}, DATA, scorers=["exact"], batch_size=5, cache=False)
    assert handle.batches == [5, 5, 2]
    assert report.mean("m", "exact") == 1.0


def test_the_cache_api(tmp_path: Path) -> None:
    handle = ScriptedHandle("api", right)
    prompts = [r["messages"][:1] for r in DATA[:3]]
    with GenerationCache(tmp_path / "gen.db") as cache:
        first = generate(handle, prompts, {"max_tokens": 8}, cache=cache)
        second = generate(handle, prompts, {"max_tokens": 8}, cache=cache)
        assert [g.cached for g in first] == [False] * 3
        assert [g.cached for g in second] == [True] * 3
        assert [g.text for g in second] == ["a0", "a1", "a2"]
        assert cache.count("api") == 3
        key = cache.key("api", prompts[0], ftbridge.eval.generation_of({"max_tokens": 8}))
        assert cache.get(key) is not None
    assert (tmp_path / "gen.db").stat().st_mode & 0o077 == 0


def test_a_repeated_prompt_is_asked_once() -> None:
    handle = ScriptedHandle("repeats", right)
    data = [record("q1", "a1"), record("q2", "a2"), record("q1", "a1"), record("q1", "a1")]
    for cache in (False, True):
        handle.calls.clear()
        report = ftbridge.evaluate({"m": handle}, data, scorers=["exact"], cache=cache)
        assert sorted(handle.calls) == ["q1", "q2"]
        assert [r["outputs"]["m"] for r in report.records] == ["a1", "a2", "a1", "a1"]
