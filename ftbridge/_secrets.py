"""Secrets, masked by value: whatever ftbridge prints, raises, logs or stores is scrubbed.

A secret is registered once, where ftbridge first sees it, and from then on every occurrence of
its value is replaced by its mask (``sk-...abcd``) wherever it turns up: in an exception message
(a server that echoes the key in its error text), a log record, CLI output, or a job store row.

What is registered:

* every configuration value under a secret-looking name (``api_key``, ``token``, ``password``,
  ``authorization``... in ``ftbridge.toml`` or in settings passed to ``get_provider``), and the
  credential of an ``authorization = "Bearer ..."`` value whatever its name;
* the password (and secret-looking query parameters) of any URL in the configuration, such as
  ``base_url = "https://user:pw@host/v1"``;
* every environment variable with a secret-looking name (``OPENAI_API_KEY``,
  ``TOGETHER_API_KEY``, ``FTBRIDGE_SERVE_API_KEY``, ``HF_TOKEN``...) and the password of any URL
  in the environment (read again on each scrub, so a key exported later is covered too);
* whatever a provider calls :func:`register` with (the key it resolved, say).

Values shorter than :data:`MIN_LENGTH` characters are not registered: scrubbing ``"k"`` out of
every message would destroy the messages and protect nothing.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import orjson

MIN_LENGTH = 6

# Name segments that mark a secret: ``api_key``, ``OPENAI_API_KEY``, ``apiKey``, ``auth-token``.
# ``max_tokens`` or ``tokenizer`` are not secrets: a segment must be one of these words exactly.
_SECRET_WORDS = (
    "key|apikey|secret|secrets|token|password|passwd|pwd|passphrase|credential|credentials|"
    "auth|authorization|bearer|cookie|signature"
)
# Values under a secret-looking name that are settings, not secrets: scrubbing "disabled" or a
# file's path out of every message would protect nothing.
_NOT_SECRETS = frozenset({"true", "false", "none", "null", "disabled", "enabled", "default"})
# A word may carry a number (``api_key2``, ``secret_1``), a key or secret may be plural
# (``apikeys``), and a key may end a run-together name (``privatekey``, ``OPENAIAPIKEY``).
_COMPOUND_KEYS = "[a-z0-9]*(?:apikey|privatekey|secretkey|accesskey)s?|(?:key|secret|password)s"
_SECRET_SEGMENT = re.compile(
    rf"(?:^|[_\-.\s])(?:{_SECRET_WORDS}|{_COMPOUND_KEYS})\d*(?:$|[_\-.\s])"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SCHEME = re.compile(r"^\s*(?:bearer|basic|token|apikey)\s+(\S+)\s*$", re.IGNORECASE)
_BEARER = re.compile(rf"^\s*bearer\s+\S{{{MIN_LENGTH},}}\s*$", re.IGNORECASE)  # under any name

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_environ_seen: dict[str, str] = {}


def is_secret_name(name: object) -> bool:
    """Whether a setting or variable of this name holds a secret (``api_key``: yes,
    ``max_tokens``: no)."""
    text = _CAMEL.sub("_", str(name)).lower()
    return bool(_SECRET_SEGMENT.search(text))


def mask(secret: str) -> str:
    """``sk-...abcd``: enough to tell two keys apart, never enough to use one."""
    return "****" if len(secret) < 16 else f"{secret[:3]}...{secret[-4:]}"


def register(value: object) -> None:
    """Scrub ``value`` (a key, a token, a password) from everything ftbridge shows or stores."""
    if not isinstance(value, str):
        return
    value = value.strip()
    if value.lower() in _NOT_SECRETS or value.startswith(("/", "~/", "./")) or "://" in value:
        return  # a flag, a path or a URL (whose password register_url takes)
    forms = {value}
    scheme = _SCHEME.match(value)
    if scheme:  # "Bearer sk-...": the credential alone is just as secret
        forms.add(scheme.group(1))
    for form in list(forms):
        forms.add(unquote(form))
        forms.add(quote(form, safe=""))
        forms.add(orjson.dumps(form).decode()[1:-1])  # as it appears inside stored JSON
    new = {f for f in forms if len(f) >= MIN_LENGTH} - _values
    if new:
        global _pattern
        with _lock:
            _values.update(new)
            ordered = sorted(_values, key=len, reverse=True)  # "Bearer x" before "x"
            _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def register_url(value: str) -> None:
    """The password and secret-looking query parameters of a URL (``https://u:pw@host``)."""
    if "://" not in value:
        return
    try:
        parts = urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return
    if password:
        register(password)
    for name, param in parse_qsl(parts.query):
        if is_secret_name(name):
            register(param)


def register_settings(settings: Mapping[str, Any]) -> None:
    """Every secret in a configuration table (nested tables and lists too)."""
    for name, value in settings.items():
        _register_value(name, value)


def _register_value(name: object, value: Any) -> None:
    if isinstance(value, Mapping):
        register_settings(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _register_value(name, item)
    elif isinstance(value, str):
        if is_secret_name(name) or _BEARER.match(value):
            register(value)
        register_url(value)


# The shell's working directories: "PWD" is a secret-looking segment, but these hold paths,
# and scrubbing them would mangle every dataset path under the directory a user works in.
_NOT_SECRET_ENVIRON = frozenset({"PWD", "OLDPWD"})


def _register_environ() -> None:
    for name, value in list(os.environ.items()):
        if _environ_seen.get(name) == value:
            continue
        _environ_seen[name] = value
        if is_secret_name(name) and name not in _NOT_SECRET_ENVIRON:
            register(value)
        register_url(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by its mask."""
    _register_environ()
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: mask(m.group()), text)


def scrub_any(value: Any) -> Any:
    """``scrub`` through strings inside dicts, lists and tuples (other values unchanged)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: scrub_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_any(v) for v in value)
    return value


# -- where text leaves ftbridge -----------------------------------------------------------------


def _scrub_record(record: logging.LogRecord) -> None:
    message = record.getMessage()
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        # the traceback's text (a chained SDK error may quote the key), formatted once, clean
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs secrets from each record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


_installed = False


def install_log_scrubbing() -> None:
    """Scrub every record of the ``ftbridge`` logger and its children (``ftbridge.openai``...).

    A filter on the ``ftbridge`` logger sees only the records logged on it, not those its
    children pass up, so records are also scrubbed as they are made for any ``ftbridge.*`` logger
    (the record factory in use is kept and wrapped, not replaced)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    logging.getLogger("ftbridge").addFilter(ScrubFilter())
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.name.startswith("ftbridge."):
            _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)


class _ScrubbingStream:
    """A text stream that scrubs what is written to it, and is otherwise the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(scrub(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def scrubbed_output() -> Iterator[None]:
    """While inside, everything written to ``sys.stdout`` and ``sys.stderr`` is scrubbed."""
    import sys

    out, err = sys.stdout, sys.stderr
    sys.stdout = _ScrubbingStream(out)  # type: ignore[assignment]
    sys.stderr = _ScrubbingStream(err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


__all__ = [
    "MIN_LENGTH",
    "ScrubFilter",
    "install_log_scrubbing",
    "is_secret_name",
    "mask",
    "register",
    "register_settings",
    "register_url",
    "scrub",
    "scrub_any",
    "scrubbed_output",
]


install_log_scrubbing()
