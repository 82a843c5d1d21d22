"""Files whose shape is the problem (UTF-16, a JSON array), lines that are not examples, and
an unknown provider name: one clear answer each, through the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftbridge
from ftbridge.cli import main
from ftbridge.validation import check

from .conftest import chat, write_lines


def _records(n: int = 12) -> list[dict]:
    return [chat(i) for i in range(n)]


def test_utf16_is_named_as_such_not_cut_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notepad.jsonl"
    path.write_bytes("".join(json.dumps(r) + "\r\n" for r in _records()).encode("utf-16"))
    report = check(path).report
    assert [f.code for f in report.findings()] == ["dataset.not_utf8"]
    assert "the file is UTF-16; save it as UTF-8" in report.errors[0].message
    assert f"iconv -f UTF-16 -t UTF-8 {path} > {tmp_path / 'notepad.utf8.jsonl'}" in (
        report.errors[0].message
    )
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "the file is UTF-16; save it as UTF-8" in out
    assert "cut off" not in out and "line.truncated" not in out
    assert "INVALID: 0 examples, 1 errors" in out
    with pytest.raises(ftbridge.DatasetValidationError, match="UTF-16"):
        ftbridge.validate(path)


def test_a_pretty_printed_json_array_gets_one_error_and_a_conversion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(_records(200), indent=2))
    assert main(["validate", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in out["errors"]] == ["dataset.json_array"]
    assert out["error_count"] == 1
    message = out["errors"][0]["message"]
    assert "this is a JSON array; write one JSON object per line (JSONL)" in message
    assert f'json.load(open(sys.argv[1]))]" {path} > {path}l' in message


def test_the_conversion_in_the_message_works(tmp_path: Path) -> None:
    import shlex
    import subprocess
    import sys

    path = tmp_path / "data.json"
    path.write_text(json.dumps(_records(), indent=2))
    message = check(path).report.errors[0].message
    command = message.split("for example with: ", 1)[1].split("; its lines", 1)[0]
    argv = shlex.split(command.replace(" > ", " ").rsplit(" ", 1)[0])
    argv[0] = sys.executable
    converted = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    fixed = tmp_path / "data.jsonl"
    fixed.write_text(converted)
    assert check(fixed).valid


def test_a_jsonl_file_of_lists_is_not_taken_for_an_array(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "lists.jsonl", [[1, 2], [3], chat(0)])
    report = check(path).report
    assert "dataset.json_array" not in report.counts
    assert report.counts["record.not_object"] == 2


def test_lines_that_are_not_json_objects_are_not_examples(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [*_records(12), b"{bad\n", b"[1, 2]\n", b"\xff\xfe{}\n", b'"text"\n'],
    )
    report = check(path).report
    assert report.stats.examples == 12
    assert report.stats.lines == 16


def test_only_unparseable_lines_is_an_empty_dataset(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "junk.jsonl", [b"{bad\n", b"nope\n"])
    report = check(path).report
    assert report.stats.examples == 0
    assert "dataset.empty" in report.counts


def test_an_unknown_provider_is_a_usage_error_listing_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "ok.jsonl", _records())
    assert main(["validate", str(path), "--provider", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown provider 'nosuch'" in err
    assert "openai" in err and "together" in err and "local" in err
    with pytest.raises(ftbridge.UnknownProviderError, match="Did you mean 'openai'"):
        check(path, provider="opena")
    # a registered provider without a validation profile is not unknown
    assert check(path, provider="fake").valid
