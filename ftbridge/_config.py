"""Configuration: ``ftbridge.toml``, then the environment, then arguments.

    # ftbridge.toml (in the project directory, or wherever $FTBRIDGE_CONFIG points)
    [defaults]
    provider = "openai"
    model = "gpt-4o-mini"

    [providers.openai]
    base_url = "http://127.0.0.1:8000/v1"

    [providers.local]
    model = "./models/tiny"

Switching provider is a change of ``[defaults] provider`` only. Keys are best left to the SDKs'
own environment variables (``OPENAI_API_KEY``...); a key written in the file works but is never
shown: every secret value read here is registered with ``ftbridge._secrets`` and scrubbed from
whatever ftbridge prints, raises, logs or stores.

Environment beats file: ``FTBRIDGE_MODEL`` beats both ``[defaults] model`` and
``[providers.<name>] model``; an argument (``model=...``, ``--model``) beats everything.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError
from ._secrets import is_secret_name, mask, register_settings, scrub, scrub_any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILENAME = "ftbridge.toml"
DEFAULTS_KEYS = ("model", "provider")


@dataclass(frozen=True)
class Config:
    """The effective configuration (file + environment)."""

    path: Path | None = None
    default_provider: str | None = None
    default_model: str | None = None
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    #: ``$FTBRIDGE_MODEL``: it beats both ``[defaults] model`` and ``[providers.<name>] model``.
    env_model: str | None = None

    def __repr__(self) -> str:
        return scrub(
            f"Config(path={self.path!r}, default_provider={self.default_provider!r}, "
            f"default_model={self.default_model!r}, providers={mask_secrets(self.providers)!r}, "
            f"sources={dict(self.sources)!r})"
        )

    def provider_settings(self, name: str) -> dict[str, Any]:
        return dict(self.providers.get(name, {}))

    def model_for(self, provider: str) -> str | None:
        """The default model: ``$FTBRIDGE_MODEL``, else ``[providers.<name>] model``, else
        ``[defaults] model`` (the file, then the environment; arguments beat all three)."""
        if self.env_model:
            return self.env_model
        model = self.providers.get(provider, {}).get("model")
        return str(model) if model else self.default_model


def find_config_file(start: Path | None = None) -> Path | None:
    """``$FTBRIDGE_CONFIG`` if set, else the nearest ``ftbridge.toml`` from ``start`` upwards."""
    env = os.environ.get("FTBRIDGE_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"FTBRIDGE_CONFIG points to {path}, which is not a file")
        return path
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / FILENAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None = None) -> Config:
    """Read the configuration. ``path`` overrides the search for ``ftbridge.toml``."""
    file = Path(path) if path else find_config_file()
    data = _read(file) if file is not None else {}
    defaults = data.get("defaults", {})
    providers = data.get("providers", {})
    if not isinstance(defaults, dict) or not isinstance(providers, dict):
        raise ConfigError(f"{file}: [defaults] and [providers.<name>] must be tables")
    for name, table in providers.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: [providers.{name}] must be a table")
    unknown = set(data) - {"defaults", "providers"}
    if unknown:
        raise ConfigError(
            f"{file}: unknown section(s) {', '.join(sorted(unknown))}; "
            "use [defaults] and [providers.<name>]"
        )
    _check_defaults(file, defaults)
    for name, table in providers.items():
        _check_table(file, f"providers.{name}", table)
    sources: dict[str, str] = {}
    provider = defaults.get("provider")
    model = defaults.get("model")
    if provider:
        sources["provider"] = str(file)
    if model:
        sources["model"] = str(file)
    env_model = os.environ.get("FTBRIDGE_MODEL") or None
    if os.environ.get("FTBRIDGE_PROVIDER"):
        provider = os.environ["FTBRIDGE_PROVIDER"]
        sources["provider"] = "FTBRIDGE_PROVIDER"
    if env_model:
        model = env_model
        sources["model"] = "FTBRIDGE_MODEL"
    register_settings(data)
    return Config(
        path=file,
        default_provider=str(provider) if provider else None,
        default_model=str(model) if model else None,
        providers={k: dict(v) for k, v in providers.items()},
        sources=sources,
        env_model=env_model,
    )


def _read(file: Path) -> dict[str, Any]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "TOML files must be saved as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc


def _check_defaults(file: Path | None, defaults: Mapping[str, Any]) -> None:
    for key, value in defaults.items():
        if key not in DEFAULTS_KEYS:
            close = difflib.get_close_matches(key, DEFAULTS_KEYS, n=1)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else f"; the keys are {', '.join(sorted(DEFAULTS_KEYS))}"
            )
            raise ConfigError(f"{file}: unknown key {key!r} in [defaults]{hint}")
        if not isinstance(value, str):
            raise ConfigError(
                f"{file}: {key} in [defaults] must be a string, not {_kind(value)} ({value!r})"
            )


def _check_table(file: Path | None, where: str, table: Mapping[str, Any]) -> None:
    """A model name and every secret-looking setting must be strings (nested tables too)."""
    for key, value in table.items():
        if isinstance(value, Mapping):
            _check_table(file, f"{where}.{key}", value)
            continue
        if value is None or isinstance(value, str):
            continue
        if key == "model" or is_secret_name(key):
            shown = "(a secret, not shown)" if key != "model" else f"({value!r})"
            raise ConfigError(
                f"{file}: {key} in [{where}] must be a string, not {_kind(value)} {shown}; "
                f'quote it: {key} = "..."'
            )


def _kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", list: "a list"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def mask_secrets(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` with every secret-looking value masked (nested tables too)."""
    masked: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            masked[key] = mask_secrets(value)
        elif value and is_secret_name(key):
            masked[key] = mask(str(value))
        else:
            masked[key] = scrub_any(value)  # a password inside a URL, say
    return masked


__all__ = ["Config", "find_config_file", "load_config", "mask", "mask_secrets"]
