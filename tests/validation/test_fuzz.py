"""Property-based fuzzing: whatever the bytes or records, a report comes back, never a crash."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftbridge.validation import check

from .conftest import chat

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "role",
    "content",
    "weight",
    "name",
    "tool_calls",
    "tool_call_id",
    "messages",
    "tools",
    "type",
    "function",
]


def _assert_report(path: Path) -> None:
    ds = check(path, tokenizer="estimate")
    report = ds.report
    assert report.error_count >= len(report.errors)
    assert all(f.line is None or 1 <= f.line <= report.stats.lines for f in report.findings())
    assert report.valid == (report.error_count == 0)


@_SETTINGS
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    _assert_report(path)


@_SETTINGS
@given(
    lines=st.lists(
        st.sampled_from(
            [b"\n", b"\xef\xbb\xbf", b"{", b"}", b"\xff", b'"', b"[]", b"\r\n", b"null"]
        )
        | st.binary(max_size=20),
        max_size=30,
    )
)
def test_line_structure_bytes(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(json.dumps(chat(0)).encode() + b"\n" + b"".join(lines))
    _assert_report(path)


def _mutate(target: Any, path: list[Any], key: str, value: Any, drop: bool) -> None:
    node = target
    for step in path:
        node = node[step]
    if isinstance(node, dict):
        if drop and node:
            node.pop(next(iter(node)))
        else:
            node[key] = value
    elif isinstance(node, list):
        if drop and node:
            node.pop()
        else:
            node.append(value)


@_SETTINGS
@given(
    mutations=st.lists(
        st.tuples(
            st.sampled_from([[], ["messages"], ["messages", 0], ["messages", 1], ["messages", 2]]),
            st.sampled_from(KEYS),
            json_values,
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_records(tmp_path: Path, mutations: list[tuple[list[Any], str, Any, bool]]) -> None:
    record: Any = copy.deepcopy(chat(1))
    for where, key, value, drop in mutations:
        # an earlier mutation may have changed the shape: keep what we have
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _mutate(record, where, key, value, drop)
    path = tmp_path / "fuzz.jsonl"
    path.write_text(json.dumps(chat(0)) + "\n" + json.dumps(record) + "\n")
    _assert_report(path)


@_SETTINGS
@given(
    records=st.lists(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3), max_size=5)
)
def test_iterable_of_arbitrary_dicts(records: list[dict[str, Any]]) -> None:
    ds = check(records)
    assert ds.report.stats.examples == len(records)


_records = st.lists(st.integers(0, 50).map(chat), min_size=1, max_size=6)


@_SETTINGS
@given(
    records=_records,
    encoding=st.sampled_from(
        ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_utf16_and_utf32_files_get_one_error_naming_the_encoding(
    tmp_path: Path, records: list[dict[str, Any]], encoding: str, newline: str
) -> None:
    path = tmp_path / "fuzz.jsonl"
    text = "".join(json.dumps(r, ensure_ascii=False) + newline for r in records)
    path.write_bytes(text.encode(encoding))
    report = check(path).report
    assert [f.code for f in report.findings()] == ["dataset.not_utf8"]
    assert f"the file is {encoding[:6].upper()}; save it as UTF-8" in report.errors[0].message
    assert report.stats.examples == 0 and not report.valid


@_SETTINGS
@given(
    records=_records,
    indent=st.sampled_from([None, 1, 2, 4]),
    lead=st.sampled_from(["", "\n", "  "]),
)
def test_a_json_array_gets_one_error_saying_so(
    tmp_path: Path, records: list[dict[str, Any]], indent: int | None, lead: str
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text(lead + json.dumps(records, indent=indent))
    report = check(path).report
    assert [f.code for f in report.findings()] == ["dataset.json_array"]
    assert "this is a JSON array; write one JSON object per line (JSONL)" in (
        report.errors[0].message
    )
