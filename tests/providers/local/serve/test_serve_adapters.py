"""Adapters at run time: load and unload (vLLM's routes), LRU eviction, and what is refused."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from serve_helpers import QUESTIONS, Adapters, Reference, make_adapter

import ftbridge

MAX_TOKENS = 8


def ask(client: Any, model: str, question: str = QUESTIONS[0]) -> str:
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        max_tokens=MAX_TOKENS,
        temperature=0,
    )
    return str(reply.choices[0].message.content)


def health(server: Any) -> dict[str, Any]:
    return dict(httpx.get(server.url + "/health").json())


@pytest.fixture(scope="module")
def small_server(adapters: Adapters) -> Any:
    """At most two adapters in memory, no key."""
    with ftbridge.serve(
        base=str(adapters.base),
        adapters={n: str(adapters.paths[n]) for n in ("support", "legal", "brief")},
        port=0,
        max_loaded=2,
    ) as started:
        yield started


@pytest.fixture
def small(small_server: Any) -> Any:
    return openai.OpenAI(base_url=small_server.base_url, api_key="unused", max_retries=0)


def test_least_recently_used_adapters_are_unloaded_and_come_back(
    small_server: Any, small: Any, adapters: Adapters, reference: Reference
) -> None:
    ask(small, "support")
    ask(small, "legal")
    assert health(small_server)["loaded"] == ["support", "legal"]
    ask(small, "brief")  # evicts support, the least recently used
    assert health(small_server)["loaded"] == ["legal", "brief"]
    again = ask(small, "support")  # reloaded on demand, evicting legal
    assert health(small_server)["loaded"] == ["brief", "support"]
    assert again == reference.answer(adapters.base, adapters.paths["support"], QUESTIONS[0], 8)
    ids = [m.id for m in small.models.list()]
    assert ids[1:] == ["support", "legal", "brief"]  # all still served


def test_a_batch_wanting_more_adapters_than_fit_still_answers_each(
    small: Any, adapters: Adapters, reference: Reference
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("support", "legal", "brief")[i % 3] for i in range(9)]
    with ThreadPoolExecutor(9) as pool:
        got = list(pool.map(lambda name: ask(small, name, QUESTIONS[1]), jobs))
    for name, text in zip(jobs, got, strict=True):
        assert text == reference.answer(adapters.base, adapters.paths[name], QUESTIONS[1], 8)


def test_load_and_unload_at_run_time(
    small_server: Any, small: Any, adapters: Adapters, reference: Reference
) -> None:
    url = small_server.base_url
    loaded = httpx.post(
        url + "/load_lora_adapter",
        json={"lora_name": "extra", "lora_path": str(adapters.paths["extra"])},
    )
    assert loaded.status_code == 200, loaded.text
    assert "extra" in [m.id for m in small.models.list()]
    assert ask(small, "extra") == reference.answer(
        adapters.base, adapters.paths["extra"], QUESTIONS[0], 8
    )
    twice = httpx.post(
        url + "/load_lora_adapter",
        json={"lora_name": "extra", "lora_path": str(adapters.paths["extra"])},
    )
    assert twice.status_code == 400 and "already loaded" in twice.json()["error"]["message"]
    assert httpx.post(url + "/unload_lora_adapter", json={"lora_name": "extra"}).status_code == 200
    with pytest.raises(openai.NotFoundError):
        ask(small, "extra")
    gone = httpx.post(url + "/unload_lora_adapter", json={"lora_name": "extra"})
    assert gone.status_code == 404
    missing = httpx.post(url + "/load_lora_adapter", json={"lora_name": "x", "lora_path": "/nope"})
    assert (
        missing.status_code == 400 and "adapter_config.json" in missing.json()["error"]["message"]
    )


def test_a_dora_adapter_is_served_in_batches_of_its_own(
    small_server: Any, small: Any, adapters: Adapters, reference: Reference
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    response = httpx.post(
        small_server.base_url + "/load_lora_adapter",
        json={"lora_name": "dora", "lora_path": str(adapters.paths["dora"])},
    )
    assert response.status_code == 200, response.text
    try:
        # PEFT refuses DoRA in a mixed batch; mixed traffic still gets each adapter's answer
        jobs = [("dora", "support", "dora", str(adapters.base))[i % 4] for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda name: ask(small, name, QUESTIONS[2]), jobs))
        for name, text in zip(jobs, got, strict=True):
            path = None if name == str(adapters.base) else adapters.paths[name]
            assert text == reference.answer(adapters.base, path, QUESTIONS[2], 8), name
    finally:
        httpx.post(small_server.base_url + "/unload_lora_adapter", json={"lora_name": "dora"})


def test_an_adapter_of_another_base_is_refused_naming_both(
    small_server: Any, adapters: Adapters, tmp_path: Path
) -> None:
    from ftbridge_local.testing import build_tiny_model

    other = build_tiny_model(tmp_path / "other-base", seed=9)
    foreign = make_adapter(other, tmp_path / "foreign", seed=1)
    response = httpx.post(
        small_server.base_url + "/load_lora_adapter",
        json={"lora_name": "foreign", "lora_path": str(foreign)},
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert str(other) in message and str(adapters.base) in message


def test_qlora_adapters_are_served_on_the_4bit_base_they_were_trained_on(
    adapters: Adapters, reference: Reference, tmp_path: Path
) -> None:
    qlora = make_adapter(adapters.base, tmp_path / "qlora", seed=6, quantized=True)
    with ftbridge.serve(base=str(adapters.base), adapters={"q": str(qlora)}, port=0) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        for question in QUESTIONS[:2]:
            expected = reference.answer(adapters.base, qlora, question, 8, quantized=True)
            assert ask(client, "q", question) == expected
        # a LoRA adapter trained on the unquantised base does not belong on this one
        response = httpx.post(
            server.base_url + "/load_lora_adapter",
            json={"lora_name": "plain", "lora_path": str(adapters.paths["support"])},
        )
        assert response.status_code == 400
        assert "4-bit NF4" in response.json()["error"]["message"]


def test_logs_hold_neither_the_key_nor_the_prompt_unless_asked(
    adapters: Adapters, caplog: pytest.LogCaptureFixture
) -> None:
    secret_prompt = "What is the purple zebra?"
    key = "sk-do-not-log-me-42"
    caplog.set_level(logging.DEBUG)
    for log_prompts in (False, True):
        caplog.clear()
        with ftbridge.serve(
            base=str(adapters.base),
            adapters={"support": str(adapters.paths["support"])},
            port=0,
            api_key=key,
            log_prompts=log_prompts,
        ) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0)
            ask(client, "support", secret_prompt)
            assert key not in repr(server.spec)
        assert "completion_tokens=8" in caplog.text
        assert key not in caplog.text
        assert (secret_prompt in caplog.text) is log_prompts


def test_a_load_gets_its_turn_under_unbroken_traffic(
    small_server: Any, small: Any, adapters: Adapters
) -> None:
    import threading
    import time

    stop = threading.Event()

    def traffic(length: int) -> None:
        # back-to-back requests of different lengths: a batch that took in every one would never
        # end (its rows never all finish at once)
        while not stop.is_set():
            small.chat.completions.create(
                model="support",
                messages=[{"role": "user", "content": QUESTIONS[0]}],
                max_tokens=length,
                temperature=0,
            )

    threads = [threading.Thread(target=traffic, args=(20 + 7 * i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        loaded = httpx.post(
            small_server.base_url + "/load_lora_adapter",
            json={"lora_name": "late", "lora_path": str(adapters.paths["extra"])},
            timeout=60,
        )
        took = time.monotonic() - started
        assert loaded.status_code == 200, loaded.text
        assert took < 20, f"the load waited {took:.1f}s for the traffic"
        assert ask(small, "late")  # served while the traffic goes on
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        httpx.post(small_server.base_url + "/unload_lora_adapter", json={"lora_name": "late"})


def test_an_adapter_loaded_for_a_joining_request_can_outlive_the_others(
    adapters: Adapters, reference: Reference
) -> None:
    import threading

    names = ("support", "brief", "legal")
    with ftbridge.serve(
        base=str(adapters.base),
        adapters={n: str(adapters.paths[n]) for n in names},
        port=0,
        max_loaded=2,
    ) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        assert health(server)["loaded"] == ["support", "brief"]
        started = threading.Event()

        def long_reply() -> None:
            stream = client.chat.completions.create(
                model="support",
                messages=[{"role": "user", "content": QUESTIONS[0]}],
                max_tokens=300,
                temperature=0,
                stream=True,
            )
            for n, _ in enumerate(stream):
                if n == 3:
                    started.set()

        thread = threading.Thread(target=long_reply)
        thread.start()
        assert started.wait(60)
        ask(client, "legal")  # joins the running batch: legal is loaded then, brief unloaded
        thread.join(120)
        assert health(server)["loaded"] == ["legal", "support"]
        ask(client, "legal")
        # unloading support now leaves legal as PEFT's remaining adapter, which it then touches
        for name in ("brief", "legal", "support"):
            expected = reference.answer(adapters.base, adapters.paths[name], QUESTIONS[0], 8)
            assert ask(client, name) == expected, name
