"""What a new user hits with ordinary mistakes: each gets a sentence and the documented exit code.

Wrong paths for output files, bad generation settings, text that is not UTF-8 on the command
line, a scorer without its argument, secrets under unusual names, a chat the provider refuses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftbridge
from ftbridge.cli import main

SCRIPT = '[["running", 0.05], ["succeeded", 0]]'


def _succeeded_job(capsys: pytest.CaptureFixture[str], train_file: Path) -> str:
    args = ["submit", str(train_file), "--provider", "fake", "--model", "base", "--wait"]
    code = main([*args, "--json", "-o", f"script={SCRIPT}"])
    out = capsys.readouterr().out
    assert code == 0, out
    return str(json.loads(out)["id"])


def _prompts(tmp_path: Path) -> Path:
    data = tmp_path / "heldout.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(3)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and "Error:" not in err.replace("error:", ""), err


def test_an_output_file_that_cannot_be_written_is_named_with_exit_2(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    missing = tmp_path / "no-such-dir" / "loss.png"
    assert main(["plot", job, "-o", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"ftbridge: error: {missing}: No such file or directory" in err
    _no_traceback(err)
    assert main(["plot", job, "-o", str(tmp_path)]) == 2  # a directory where a file was meant
    err = capsys.readouterr().err
    assert f"{tmp_path}: Is a directory" in err
    _no_traceback(err)
    # record's --out the same way, before any model is asked
    assert main(["record", job, "--data", str(_prompts(tmp_path)), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Is a directory" in err
    _no_traceback(err)


def test_eval_refuses_a_bad_out_and_a_binary_judge_template_before_generating(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    data = _prompts(tmp_path)
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    base = ["eval", str(data), "--model", f"tuned={job}", "--no-cache"]
    assert main([*base, "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert f"--out {a_file}: a file is there; --out names a directory" in err
    _no_traceback(err)
    template = tmp_path / "judge.txt"
    template.write_bytes(b"\xe1\xff\x00 judge {a} {b}")
    assert main([*base, "--judge-template", str(template)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8 text" in err
    _no_traceback(err)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--max-tokens", "-5"], "max_tokens must be a whole number from 1 to 2147483647, not -5"),
        (["--max-tokens", "0"], "max_tokens must be a whole number from 1 to 2147483647, not 0"),
        (["--temperature", "nan"], "temperature must be a number of 0 or more, not nan"),
        (["--temperature", "-1"], "temperature must be a number of 0 or more"),
        (["--top-p", "7"], "top_p must be a number from 0 to 1, not 7.0"),
    ],
)
def test_chat_settings_no_provider_accepts_are_refused(
    capsys: pytest.CaptureFixture[str], train_file: Path, flags: list[str], expected: str
) -> None:
    job = _succeeded_job(capsys, train_file)
    assert main(["chat", job, "hi", "--no-stream", *flags]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert captured.out == ""  # no empty reply printed as if it were one


def test_text_that_is_not_utf8_is_refused_before_the_provider_sees_it(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    # a command-line argument holding the byte 0xff reaches Python as a lone surrogate
    assert main(["chat", job, "h\udcffi"]) == 2
    err = capsys.readouterr().err
    assert "message 1 is not valid text: character 2 is \\xff" in err
    _no_traceback(err)
    with ftbridge.get_job(job).model() as model:
        with pytest.raises(ftbridge.ConfigError, match="message 2 is not valid text"):
            model.chat([{"role": "user", "content": "ok"}, {"role": "user", "content": "\ud800"}])
        with pytest.raises(ftbridge.ConfigError, match="a list of"):
            model.chat("hello")  # type: ignore[arg-type]
        with pytest.raises(ftbridge.ConfigError, match="max_tokens"):
            list(model.stream([{"role": "user", "content": "hi"}], max_tokens=-1))
        assert model.chat([{"role": "user", "content": "héllo 日本 🎉"}], max_tokens=5).text


def test_eval_settings_are_checked_before_any_generation(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    data = _prompts(tmp_path)
    assert main(["eval", str(data), "--model", f"t={job}", "--max-tokens", "-1"]) == 2
    assert "max_tokens must be a whole number from 1 to 2147483647" in capsys.readouterr().err
    assert main(["eval", str(data), "--model", f"t={job}", "--temperature", "inf"]) == 2
    assert "temperature must be a number of 0 or more, not inf" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("scorer", "expected"),
    [
        ("json_schema", "scorer 'json_schema' needs its argument: json_schema:<...>"),
        ("regex", "scorer 'regex' needs its argument: regex:<...>"),
        ("json_schema=s.json", "Did you mean 'json_schema:<...>'?"),
        ("exakt", "Did you mean 'exact'?"),
    ],
)
def test_a_scorer_without_its_argument_says_how_to_write_it(scorer: str, expected: str) -> None:
    from ftbridge.eval._scorers import scorer_for

    with pytest.raises(ftbridge.ConfigError) as caught:
        scorer_for(scorer)
    assert expected in str(caught.value)
    assert "Did you mean 'json_schema'?" not in str(caught.value)  # it is not a scorer alone


def test_config_show_masks_secrets_under_numbered_and_run_together_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "ftbridge.toml"
    config.write_text(
        "[providers.openai]\n"
        'api_key2 = "sk-numbered-secret-0001"\n'
        'secret2 = "second-secret-0002"\n'
        'privatekey = "run-together-0003"\n'
        'OPENAIAPIKEY = "shouted-secret-0004"\n'
        "max_tokens = 64\n"
    )
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("MY_APIKEY1", "env-secret-numbered-0005")
    for flags in ([], ["--json"]):
        assert main(["config", "show", *flags]) == 0
        out = capsys.readouterr().out
        for secret in ("numbered-secret", "second-secret", "run-together", "shouted-secret"):
            assert secret not in out, out
        assert "env-secret-numbered" not in out
        assert "api_key2" in out and "max_tokens" in out and "64" in out


def test_interactive_chat_with_json_prints_one_object_per_reply(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    job = _succeeded_job(capsys, train_file)
    monkeypatch.setattr("sys.stdin", io.StringIO("first\nsecond\n"))
    assert main(["chat", job, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    replies = [json.loads(line) for line in lines]
    assert [r["text"].rsplit(": ", 1)[1] for r in replies] == ["first", "second"]
    assert all(set(r) == {"text", "finish_reason", "usage"} for r in replies)


def test_retrain_bad_inputs_are_usage_errors_and_a_dry_run_names_the_model(
    capsys: pytest.CaptureFixture[str],
    train_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = _succeeded_job(capsys, train_file)
    base = ["retrain", job, "--provider", "fake", "--model", "other", "--dry-run"]
    assert main([*base, "--hp", "epochs"]) == 2  # not 1: it is a usage error
    assert "--hp takes NAME=VALUE, got 'epochs'" in capsys.readouterr().err
    assert main([*base, "--data", str(tmp_path)]) == 2
    assert f"{tmp_path} is a directory; pass the path of a .jsonl file" in capsys.readouterr().err
    # a dry run without a model for the target fails as the submit would, not after it "passed"
    config = tmp_path / "ftbridge.toml"
    config.write_text("[defaults]\nprovider = 'fake'\n")
    monkeypatch.setenv("FTBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-sent-anywhere")  # a dry run calls nothing
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["retrain", job, "--provider", "openai", "--dry-run"]) == 2
    assert "no model given for openai" in capsys.readouterr().err
    config.write_text("[providers.fake]\nmodel = 'from-the-file'\n")
    assert main(["retrain", job, "--provider", "fake", "--dry-run", "--model", "m2"]) == 0
    assert "model     m2" in capsys.readouterr().out


def test_record_never_appends_to_a_file_that_is_not_its_recording(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    prompts = _prompts(tmp_path)
    # --out naming the training data by mistake: refused, the file untouched (its last line,
    # without a newline, is not cut off as if it were a torn answer)
    training = tmp_path / "train-copy.jsonl"
    training.write_bytes(train_file.read_bytes().rstrip(b"\n"))
    before = training.read_bytes()
    assert main(["record", job, "--data", str(prompts), "--out", str(training)]) == 2
    assert "is not a recording made by `ftbridge record`" in capsys.readouterr().err
    assert training.read_bytes() == before
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert main(["record", job, "--data", str(prompts), "--out", str(binary)]) == 2
    assert binary.read_bytes() == bytes(range(256)) * 4
    capsys.readouterr()
    # a recording of one model is not taken as the answers of another
    golden = tmp_path / "golden.jsonl"
    assert main(["record", job, "--data", str(prompts), "--out", str(golden)]) == 0
    assert "recorded 3 answers" in capsys.readouterr().out
    other = _succeeded_job(capsys, train_file)
    assert main(["record", other, "--data", str(prompts), "--out", str(golden)]) == 2
    assert "record each model into a file of its own" in capsys.readouterr().err
    # a torn last answer of its own recording is still dropped and answered again
    text = golden.read_bytes()
    golden.write_bytes(text + text.splitlines()[0][:40])
    assert main(["record", job, "--data", str(prompts), "--out", str(golden)]) == 0
    assert "(3 already there" in capsys.readouterr().out
    assert golden.read_bytes() == text


@pytest.mark.parametrize("cost", ["-1", "nan", "inf"])
def test_record_refuses_a_max_cost_that_is_not_an_amount(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path, cost: str
) -> None:
    job = _succeeded_job(capsys, train_file)
    out = tmp_path / "g.jsonl"
    args = ["record", job, "--data", str(_prompts(tmp_path)), "--out", str(out)]
    assert main([*args, "--max-cost", cost]) == 2
    assert "max_cost is a number of US dollars, 0 or more" in capsys.readouterr().err
    assert not out.exists()


def test_a_listing_filtered_by_a_misspelt_provider_says_so(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    _succeeded_job(capsys, train_file)
    for command in (["jobs"], ["jobs", "--json"], ["recover"]):
        assert main([*command, "--provider", "fak"]) == 2
        err = capsys.readouterr().err
        assert "unknown provider 'fak'. Did you mean 'fake'?" in err
    # a real provider with nothing to list is still an ordinary empty answer
    assert main(["jobs", "--provider", "openai"]) == 0
    assert capsys.readouterr().out.strip() == "no jobs"
    assert main(["recover", "--provider", "fake"]) == 0
    assert main(["jobs", "--provider", "fake"]) == 0
    assert "fake:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--port", "99999"], "argument --port: expected a whole number from 0 to 65535"),
        (["--port", "-1"], "argument --port: expected a whole number from 0 to 65535"),
        (["--max-batch", "0"], "argument --max-batch: expected a whole number of 1 or more"),
        (["--max-loaded", "-2"], "argument --max-loaded: expected a whole number of 1 or more"),
        (["--max-tokens", "0"], "argument --max-tokens: expected a whole number of 1 or more"),
    ],
)
def test_serve_refuses_impossible_numbers_before_loading_a_model(
    capsys: pytest.CaptureFixture[str], flags: list[str], expected: str
) -> None:
    assert main(["serve", "--base", "some-model", *flags]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "loading the model" not in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_and_a_device_as_output_are_sentences(
    capsys: pytest.CaptureFixture[str], train_file: Path, tmp_path: Path
) -> None:
    job = _succeeded_job(capsys, train_file)
    assert main(["plot", job, "-o", "/dev/full"]) == 2  # the write fails once the file is open
    err = capsys.readouterr().err
    assert "ftbridge: error: cannot write: No space left on device" in err
    _no_traceback(err)
    # record reads its --out first to resume it: /dev/full reads zeros for ever
    prompts = str(_prompts(tmp_path))
    assert main(["record", job, "--data", prompts, "--out", "/dev/full"]) == 2
    assert "/dev/full is not a regular file" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["validate", "/dev/zero"], "/dev/zero is not a regular file (a pipe or a device)"),
        (["submit", "/dev/zero", "--provider", "fake", "--model", "base"], "not a regular file"),
        (["eval", "/dev/zero", "--model", "a=fake:base"], "/dev/zero is a device, not a file"),
        (["record", "fake:base", "--data", "/dev/zero", "--out", "{out}"], "is a device"),
    ],
)
def test_a_device_as_input_is_refused_instead_of_read_for_ever(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], expected: str
) -> None:
    out = str(tmp_path / "golden.jsonl")
    assert main([part.format(out=out) for part in command]) == 2
    assert expected in capsys.readouterr().err


def test_a_pipe_given_to_validate_is_named_not_called_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import os
    import threading

    fifo = tmp_path / "data.pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as w:  # the other end of the pipe
            w.write(b'{"messages": [{"role": "user", "content": "hi"}]}\n')

    threading.Thread(target=feed, daemon=True).start()
    assert main(["validate", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "is not a regular file (a pipe or a device)" in err
    assert "no examples" not in err
    with open(fifo, "rb") as r:  # let the feeder finish
        r.read()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tuned=", "--model tuned=: give the model after '=', e.g. tuned=local:./models/tiny"),
        ("=fake:base", "--model =fake:base: give a NAME before '=' (NAME=REF), or REF alone"),
    ],
)
def test_eval_model_without_its_name_or_reference_says_which(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, given: str, expected: str
) -> None:
    assert main(["eval", str(_prompts(tmp_path)), "--model", given]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "no job" not in err and "unknown provider" not in err
