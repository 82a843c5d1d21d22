"""The compiled checker (``_cscan.c``) gives exactly the reports the Python checks give.

It must vouch only for lines the Python fast path accepts, with the same statistics and
features; anything else it hands back. Each case here validates the same bytes with the
compiled checker on and off and compares the whole reports. The lines are written as raw
bytes, so escapes, key orders, spacing and broken encodings reach it as a user's file would.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftbridge.validation import _compiled, _scan, check

U = b'{"role": "user", "content": "Where is my order?"}'
A = b'{"role": "assistant", "content": "It ships tomorrow."}'
S = b'{"role": "system", "content": "Be brief."}'


def rec(*messages: bytes) -> bytes:
    return b'{"messages": [' + b", ".join(messages) + b"]}\n"


def call_line(arguments: str, cid: str = "c1") -> bytes:
    """A record with a tool call whose ``arguments`` string is ``arguments``."""
    call = {"id": cid, "type": "function", "function": {"name": "f", "arguments": arguments}}
    calls = json.dumps({"role": "assistant", "tool_calls": [call]}).encode()
    answer = json.dumps({"role": "tool", "tool_call_id": cid, "content": "ok"}).encode()
    return rec(U, calls, answer, A)


TRICKY: list[bytes] = [
    rec(S, U, A),
    # key order, spacing, line endings
    rec(b'{"content": "hi", "role": "user"}', A),
    rec(U, b'{"weight": 1, "content": "x", "role": "assistant"}'),
    b'  { "messages" :[ {"role":"user" ,\t"content":"a"},{"role":"assistant","content":"b"} ] }  \n',
    rec(U, A)[:-1] + b"\r\n",
    # escapes in values and keys
    rec(b'{"role": "user", "content": "a\\nb\\t\\"c\\"\\\\ \\/"}', A),
    rec(b'{"role": "user", "content": "caf\\u00e9 \\u6771"}', A),
    rec(b'{"role": "user", "content": "\\ud83d\\ude42"}', A),
    rec(b'{"role": "user", "content": "\\ud83d"}', A),
    rec(b'{"role": "user", "content": "\\ude42 x"}', A),
    rec(b'{"role": "user", "content": "\\ud83d\\u0041"}', A),
    rec(b'{"role": "user", "content": "\\x41"}', A),
    rec(b'{"role": "user", "content": "\\u12"}', A),
    rec(b'{"role": "user", "content": "\\u0000"}', A),
    rec(b'{"role": "user", "con\\u0074ent": "a"}', A),
    rec(b'{"role": "us\\u0065r", "content": "a"}', A),
    b'{"mess\\u0061ges": [' + U + b", " + A + b"]}\n",
    # raw bytes inside strings
    rec(b'{"role": "user", "content": "tab\there"}', A),
    rec(b'{"role": "user", "content": "del\x7f"}', A),
    rec(b'{"role": "user", "content": "line\xe2\x80\xa8sep"}', A),
    rec(b'{"role": "user", "content": "emoji \xf0\x9f\x99\x82"}', A),
    rec(b'{"role": "user", "content": "overlong \xc0\xaf"}', A),
    rec(b'{"role": "user", "content": "surrogate \xed\xa0\x80"}', A),
    rec(b'{"role": "user", "content": "too high \xf4\x90\x80\x80"}', A),
    rec(b'{"role": "user", "content": "cut \xe6\x9d"}', A),
    rec(b'{"role": "user", "content": "cont \x80"}', A),
    # what the token estimate weighs: line breaks, CJK and astral characters, raw or escaped
    rec(U, '{"role": "assistant", "content": "退货政策 ご注文 주문 \u3000\u4e2d\ud7ff"}'.encode()),
    rec(b'{"role": "user", "content": "line\\none\\u000atwo\\r\\n"}', A),
    rec(U, b'{"role": "assistant", "content": "\\u2fff \\u3000 \\ud7ff \\ue000 \\uffff"}'),
    rec(
        U,
        '{"role": "assistant", "content": "\u2fff\ue000\uffff \U0001f642 \\ud83d\\ude42"}'.encode(),
    ),
    rec('{"role": "system", "content": "\u00e9\u0416\u05d0 \U00020000"}'.encode(), U, A),
    # duplicate keys, empty and odd values
    rec(b'{"role": "user", "role": "assistant", "content": "a"}', A),
    b'{"messages": [' + U + b", " + A + b'], "messages": [' + U + b", " + A + b"]}\n",
    rec(b'{"role": "user", "content": ""}', A),
    rec(b'{"role": "user", "content": null}', A),
    rec(b'{"role": "user", "content": 5}', A),
    rec(U, b'{"role": "assistant", "content": null}'),
    rec(U, b'{"role": "assistant"}'),
    rec(b'{"role": "user"}', A),
    rec(b"{}", A),
    rec(U, b"[]", A),
    b'{"messages": []}\n',
    b'{"messages": {}}\n',
    b'{"messages": [' + U + b", " + A + b"]} x\n",
    b'{"messages": [' + U + b", " + A + b"]}{}\n",
    b'{"messages": [' + U + b", " + A + b",]}\n",
    b'{"messages": [' + U + b", " + A + b"]\n",
    # weights
    *(
        rec(U, b'{"role": "assistant", "content": "x", "weight": ' + w + b"}", U, A)
        for w in (b"0", b"1", b"-0", b"1.0", b"01", b"true", b"null", b" 1 ", b"2", b"1e0")
    ),
    rec(U, b'{"role": "assistant", "content": "x", "weight": 0}'),
    rec(U, b'{"role": "user", "content": "x", "weight": 1}', A),
    # tool calls and their arguments
    call_line('{"q": "x\\ny"}'),
    call_line('{"q": "x\ny"}'),
    call_line('[1, 2.5e3, -0.0, true, false, null, {"a": []}, "\\u00e9"]'),
    call_line(" {} "),
    call_line(""),
    call_line("1e400"),
    call_line("1e40"),
    call_line("123456789012345678901234567890"),
    call_line("NaN"),
    call_line('{"a": 1,}'),
    call_line('"\\ud800"'),
    call_line('"\\ud83d\\ude42"'),
    call_line('{"a": 1} {"b": 2}'),
    call_line("[" * 300 + "]" * 300),
    call_line('{"a": 01}'),
    call_line("-"),
    call_line('{"a": 1, "a": 2}'),
    call_line("{}", cid="c\u00e9"),
    rec(
        U,
        b'{"role": "assistant", "tool_calls": [{"id": "c\\u0031", "type": "function", '
        b'"function": {"name": "f", "arguments": "{}"}}]}',
        b'{"role": "tool", "tool_call_id": "c1", "content": "ok"}',
        A,
    ),
    rec(
        U,
        b'{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}", "name": "f"}, '
        b'"type": "function", "id": "c1"}, {"id": "c2", "type": "function", "function": '
        b'{"name": "g", "arguments": "[]"}}], "content": "calling", "weight": 1}',
        b'{"tool_call_id": "c2", "content": "two", "role": "tool"}',
        b'{"role": "tool", "tool_call_id": "c1", "content": "one"}',
        A,
    ),
    rec(
        U,
        b'{"role": "assistant", "tool_calls": [{"id": "c1", "type": "functio\\u006e", '
        b'"function": {"name": "f", "arguments": "{}"}}]}',
        b'{"role": "tool", "tool_call_id": "c1", "content": "ok"}',
        A,
    ),
    rec(
        U,
        b'{"role": "assistant", "weight": 0, "tool_calls": [{"id": "c1", "type": "function", '
        b'"function": {"name": "f", "arguments": "{}"}}]}',
        b'{"role": "tool", "tool_call_id": "c1", "content": "ok"}',
        A,
    ),
    rec(U, b'{"role": "tool", "tool_call_id": "c1", "content": "ok"}', A),
    rec(U, b'{"role": "tool", "tool_call_id": "", "content": "ok"}', A),
    # turn order
    rec(U, U, A, A),
    rec(A, U, A),
    rec(S, S, A, U, A),
    rec(S, S, U, A),
    rec(U, A, S, U, A),
    rec(S),
    rec(U),
    # lines that are not records
    b"\n",
    b"   \n",
    b"[1]\n",
    b'"text"\n',
    b"{oops\n",
    rec(S, U, A),  # a duplicate of the first line
]


def reports(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The report with the compiled checker, then without it."""
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(_compiled, "ENABLED", enabled)
        monkeypatch.setenv("FTBRIDGE_HOME", str(tmp_path / f"home-{enabled}-{random.random()}"))
        out.append(check(path).report.model_dump())
    return out


def test_the_compiled_checker_is_built() -> None:
    # the development install builds it (setup.py); without it validation is only slower
    assert _compiled.AVAILABLE


def test_tricky_lines_same_report(
    picky: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tricky.jsonl"
    path.write_bytes(b"".join(TRICKY))
    with_c, without = reports(path, tmp_path, monkeypatch)
    assert with_c == without
    lines_with_errors = {f["line"] for f in without["errors"]}
    assert len(lines_with_errors) > 40  # the list really is mostly broken lines
    assert without["stats"]["duplicates"] == 1


def test_small_chunks_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # lines cut across chunks go through Python, the blocks between them through C
    monkeypatch.setattr(_scan, "CHUNK_BYTES", 256)
    lines = TRICKY * 3 + [rec(S, U, A)[:-1]]  # and a last line without a newline
    path = tmp_path / "chunks.jsonl"
    path.write_bytes(b"".join(lines))
    with_c, without = reports(path, tmp_path, monkeypatch)
    assert with_c == without
    assert with_c["stats"]["lines"] == len(lines)


def test_bom_and_format_detection_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(TRICKY[:20]))
    with_c, without = reports(path, tmp_path, monkeypatch)
    assert with_c == without
    assert with_c["counts"]["line.bom"] == 1
    # an instruction file: the compiled checker must not take its lines for chat records
    path = tmp_path / "instruction.jsonl"
    path.write_bytes(b'{"prompt": "p", "completion": "c"}\n' + rec(U, A) * 5)
    with_c, without = reports(path, tmp_path, monkeypatch)
    assert with_c == without
    assert with_c["counts"]["record.mixed_format"] == 5


def test_line_hash_is_stable_and_length_sensitive() -> None:
    from ftbridge.validation import _cscan  # type: ignore[attr-defined]

    assert _cscan.line_hash(b"abc") == _cscan.line_hash(memoryview(b"xabc")[1:])
    values = {_cscan.line_hash(b"a" * n) for n in range(64)}
    assert len(values) == 64


_WITH_CALLS = [line for line in TRICKY if b"tool_call" in line]

# byte-level mutations of valid lines: whatever they become, both paths say the same
_ALPHABET = [*b'{}[]":,\\ 01nulltrue-e.u', 0x00, 0x09, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(TRICKY) - 1),
            st.integers(0, 10_000),
            st.sampled_from(["insert", "delete", "replace"]),
            st.sampled_from(_ALPHABET),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_mutated_bytes_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: list[tuple[int, int, str, int]]
) -> None:
    lines = [bytearray(line) for line in TRICKY[:6] + _WITH_CALLS]
    for which, where, how, byte in edits:
        line = lines[which % len(lines)]
        at = where % max(1, len(line) - 1)  # keep the newline
        if how == "insert":
            line.insert(at, byte)
        elif how == "delete" and len(line) > 1:
            del line[at]
        elif byte != 0x0A:
            line[at] = byte
    path = tmp_path / "mutated.jsonl"
    path.write_bytes(b"".join(bytes(line) for line in lines))
    with_c, without = reports(path, tmp_path, monkeypatch)
    assert with_c == without
