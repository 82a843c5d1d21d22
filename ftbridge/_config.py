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
shown (``ftbridge config show`` masks it) and never stored in the job store.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILENAME = "ftbridge.toml"
_SECRET = re.compile(r"(key|secret|token|password|credential)", re.IGNORECASE)


@dataclass(frozen=True)
class Config:
    """The effective configuration (file + environment)."""

    path: Path | None = None
    default_provider: str | None = None
    default_model: str | None = None
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def provider_settings(self, name: str) -> dict[str, Any]:
        return dict(self.providers.get(name, {}))

    def model_for(self, provider: str) -> str | None:
        """The default model: ``[providers.<name>] model``, else ``[defaults] model``."""
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
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc.strerror}") from exc
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
    sources: dict[str, str] = {}
    provider = defaults.get("provider")
    model = defaults.get("model")
    if provider:
        sources["provider"] = str(file)
    if model:
        sources["model"] = str(file)
    if os.environ.get("FTBRIDGE_PROVIDER"):
        provider = os.environ["FTBRIDGE_PROVIDER"]
        sources["provider"] = "FTBRIDGE_PROVIDER"
    if os.environ.get("FTBRIDGE_MODEL"):
        model = os.environ["FTBRIDGE_MODEL"]
        sources["model"] = "FTBRIDGE_MODEL"
    return Config(
        path=file,
        default_provider=str(provider) if provider else None,
        default_model=str(model) if model else None,
        providers={k: dict(v) for k, v in providers.items()},
        sources=sources,
    )


def mask_secrets(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` with every secret-looking value masked (nested tables too)."""
    masked: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            masked[key] = mask_secrets(value)
        elif value and _SECRET.search(str(key)):
            masked[key] = mask(str(value))
        else:
            masked[key] = value
    return masked


def mask(secret: str) -> str:
    """``sk-...abcd``: enough to tell two keys apart, never enough to use one."""
    return "****" if len(secret) < 12 else f"{secret[:3]}...{secret[-4:]}"
