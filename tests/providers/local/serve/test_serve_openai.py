"""``ftbridge.serve`` through the official ``openai`` client: answers, batching, streaming, errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from serve_helpers import API_KEY, QUESTIONS, Adapters, Reference

import ftbridge

MAX_TOKENS = 10


def ask(client: Any, model: str, question: str, **params: Any) -> Any:
    return client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        **{"max_tokens": MAX_TOKENS, "temperature": 0, **params},
    )


def test_models_lists_the_base_and_every_adapter(client: Any, adapters: Adapters) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == [str(adapters.base), "support", "legal", "brief"]


def test_greedy_answer_of_each_adapter_is_pefts_own(
    client: Any, adapters: Adapters, reference: Reference
) -> None:
    answers = {}
    for name in ("support", "legal", "brief"):
        reply = ask(client, name, QUESTIONS[0])
        expected = reference.answer(adapters.base, adapters.paths[name], QUESTIONS[0], MAX_TOKENS)
        assert reply.choices[0].message.content == expected, name
        assert reply.model == name
        answers[name] = expected
    base = ask(client, str(adapters.base), QUESTIONS[0]).choices[0].message.content
    assert base == reference.answer(adapters.base, None, QUESTIONS[0], MAX_TOKENS)
    assert len({*answers.values(), base}) == 4  # the adapters really differ


def test_thirty_mixed_requests_at_once_each_get_their_adapters_answer(
    client: Any, server: Any, adapters: Adapters, reference: Reference
) -> None:
    models = ["support", "legal", "brief", str(adapters.base)]
    jobs = [(models[i % 4], QUESTIONS[i % len(QUESTIONS)]) for i in range(30)]
    with ThreadPoolExecutor(30) as pool:
        replies = list(pool.map(lambda job: ask(client, *job), jobs))
    for (model, question), reply in zip(jobs, replies, strict=True):
        adapter = None if model == str(adapters.base) else adapters.paths[model]
        expected = reference.answer(adapters.base, adapter, question, MAX_TOKENS)
        assert reply.choices[0].message.content == expected, (model, question)
    health = httpx.get(
        server.url + "/health", headers={"Authorization": f"Bearer {API_KEY}"}
    ).json()
    assert health["largest_batch"] > 4  # requests for different adapters shared batches


def test_streaming_equals_non_streaming_and_ends_with_done(client: Any, server: Any) -> None:
    for name in ("support", "brief"):
        whole = ask(client, name, QUESTIONS[1]).choices[0].message.content
        chunks = list(ask(client, name, QUESTIONS[1], stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
        assert chunks[-1].choices[0].finish_reason == "length"
    body = {
        "model": "legal",
        "messages": [{"role": "user", "content": QUESTIONS[2]}],
        "max_tokens": 4,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream(
        "POST",
        server.base_url + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert lines[-1] == "data: [DONE]"
    assert '"completion_tokens":4' in lines[-2]


def test_usage_max_tokens_and_stop(client: Any) -> None:
    reply = ask(client, "support", QUESTIONS[3], max_tokens=8)
    assert reply.usage.completion_tokens == 8
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 8
    assert reply.choices[0].finish_reason == "length"
    text = reply.choices[0].message.content
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    assert stop.strip(), text
    cut = ask(client, "support", QUESTIONS[3], max_tokens=8, stop=[stop])
    assert cut.choices[0].message.content == text[: text.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    streamed = ask(client, "support", QUESTIONS[3], max_tokens=8, stop=stop, stream=True)
    assert (
        "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        == (text[: text.index(stop)])
    )


def test_the_chat_template_is_the_adapters_own(client: Any) -> None:
    plain = ask(client, "support", QUESTIONS[0]).usage.prompt_tokens
    own = ask(client, "brief", QUESTIONS[0]).usage.prompt_tokens
    assert own > plain  # its template adds a system turn


def test_seeded_sampling_repeats_and_temperature_changes_the_answer(client: Any) -> None:
    params = {"temperature": 1.5, "top_p": 0.95, "seed": 123, "max_tokens": 12}
    first = ask(client, "legal", QUESTIONS[4], **params).choices[0].message.content
    again = ask(client, "legal", QUESTIONS[4], **params).choices[0].message.content
    greedy = ask(client, "legal", QUESTIONS[4], max_tokens=12).choices[0].message.content
    assert first == again
    assert first != greedy


def test_unknown_model_is_404_in_openais_envelope(client: Any) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        ask(client, "no-such-adapter", "hi")
    error = caught.value.body
    assert error["code"] == "model_not_found"
    assert "no-such-adapter" in error["message"] and "support" in error["message"]
    with pytest.raises(openai.NotFoundError):  # a route this server does not have
        client.completions.create(model="support", prompt="hi")


def test_a_wrong_or_missing_key_is_401_and_health_needs_none(server: Any) -> None:
    bad = openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.AuthenticationError):
        ask(bad, "support", "hi")
    none = httpx.get(server.base_url + "/models")
    assert none.status_code == 401
    assert none.json()["error"]["type"] == "authentication_error"
    health = httpx.get(server.url + "/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"model": "support"}', 422, "messages"),
        (
            b'{"model": "support", "messages": [{"role": "user", "content": "x"}], "n": 2}',
            400,
            "n=1",
        ),
        (
            b'{"model": "support", "messages": [{"role": "user", "content": "x"}], '
            b'"max_tokens": 5000}',
            400,
            "at most 2000",
        ),
        (b'{"model": "support", "messages": [{"role": "wizard", "content": "x"}]}', 422, "role"),
        (b'{"model": "support", "messages": [], "temperature": 9}', 422, "temperature"),
        (
            b'{"model": "support", "messages": [{"role": "user", "content": "x"}], '
            b'"tools": [{"type": "function", "function": {"name": "f"}}], "logprobs": true}',
            400,
            "not supported by this server: tools, logprobs",
        ),
    ],
)
def test_a_malformed_body_says_what_is_wrong(
    server: Any, body: bytes, status: int, says: str
) -> None:
    response = httpx.post(
        server.base_url + "/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert says in error["message"]


def test_a_body_over_the_cap_is_refused(server: Any) -> None:
    huge = b'{"model": "support", "messages": [{"role": "user", "content": "' + b"a" * (2 << 20)
    response = httpx.post(
        server.base_url + "/chat/completions",
        content=huge + b'"}]}',
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "request_too_large"
    assert "request body over" in response.json()["error"]["message"]


def test_a_client_that_leaves_mid_stream_frees_its_place(client: Any, server: Any) -> None:
    import time

    headers = {"Authorization": f"Bearer {API_KEY}"}
    before = httpx.get(server.url + "/health", headers=headers).json()["abandoned"]
    stream = ask(client, "support", QUESTIONS[5], max_tokens=1900, stream=True)
    next(iter(stream))
    next(iter(stream))
    stream.close()
    deadline = time.monotonic() + 30
    while (health := httpx.get(server.url + "/health", headers=headers).json())["running"]:
        assert time.monotonic() < deadline, "the abandoned row kept decoding"
        time.sleep(0.05)
    assert health["abandoned"] == before + 1  # it left its batch before its 1900 tokens
    assert ask(client, "support", QUESTIONS[0]).choices[0].message.content  # and all goes on


def test_one_model_is_retrieved_by_id(client: Any) -> None:
    assert client.models.retrieve("legal").id == "legal"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_a_prompt_past_the_context_is_refused(client: Any) -> None:
    with pytest.raises(openai.BadRequestError, match="context of 2048"):
        ask(client, "support", "sky " * 2100, max_tokens=1)


def test_before_the_model_is_in_memory_every_route_answers_503(tmp_path: Path) -> None:
    from ftbridge_local.serve import TransformersEngine

    from ftbridge._serving import ServeSpec

    missing = tmp_path / "no-model-here"
    running = TransformersEngine().start(ServeSpec(base=str(missing), port=0))
    try:
        health = httpx.get(running.url + "/health")
        assert health.status_code == 503  # loading, then failed: never ready
        assert health.json()["error"]["code"] == "not_ready"
        chat = httpx.post(
            running.url + "/v1/chat/completions",
            json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert chat.status_code == 503
        with pytest.raises(ftbridge.FtbridgeError, match="no-model-here"):
            running.wait_ready(60)
        assert str(missing) in httpx.get(running.url + "/health").json()["error"]["message"]
    finally:
        running.close()


def test_a_request_joins_a_running_batch_instead_of_waiting_for_it(
    client: Any, adapters: Adapters, reference: Reference
) -> None:
    import threading
    import time

    finished: dict[str, float] = {}
    long_text: list[str] = []
    started = threading.Event()

    def long_reply() -> None:
        stream = ask(client, "support", QUESTIONS[3], max_tokens=300, stream=True)
        for n, chunk in enumerate(stream):
            if n == 3:
                started.set()
            long_text.append((chunk.choices[0].delta.content or "") if chunk.choices else "")
        finished["long"] = time.monotonic()

    thread = threading.Thread(target=long_reply)
    thread.start()
    assert started.wait(60)
    short = ask(client, "legal", QUESTIONS[4], max_tokens=MAX_TOKENS).choices[0].message.content
    finished["short"] = time.monotonic()
    thread.join(120)
    assert finished["short"] < finished["long"]  # it did not wait for the 300-token reply
    assert short == reference.answer(adapters.base, adapters.paths["legal"], QUESTIONS[4], 10)
    expected = reference.answer(adapters.base, adapters.paths["support"], QUESTIONS[3], 300)
    assert "".join(long_text) == expected
