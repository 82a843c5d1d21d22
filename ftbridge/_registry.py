"""Finding providers: the entry-point group ``ftbridge.providers``, loaded lazily.

First-party providers get no privileges a plugin lacks: the only thing the core knows about them
is the install hint to print when one is missing (as fsspec's ``known_implementations`` does).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from typing import Any, cast

from ._exceptions import ConfigError, ProviderNotInstalledError, UnknownProviderError
from ._provider import Provider

GROUP = "ftbridge.providers"

# name -> what to install when it is missing
KNOWN_PROVIDERS: dict[str, str] = {
    "openai": "pip install 'ftbridge[openai]'",
    "together": "pip install 'ftbridge[together]'",
    "local": "pip install 'ftbridge[local]'",
    "fireworks": "pip install 'ftbridge[fireworks]'",
}


@dataclass(frozen=True)
class ProviderInfo:
    """One row of ``ftbridge providers``."""

    name: str
    installed: bool
    distribution: str | None = None
    version: str | None = None
    target: str | None = None
    install_hint: str | None = None


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def _distribution_of(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    name = dist.metadata["Name"]
    try:
        return name, version(name)
    except PackageNotFoundError:  # pragma: no cover - metadata without an installed dist
        return name, None


def list_providers() -> list[ProviderInfo]:
    """Every installed provider plus the known ones that are not installed, sorted by name."""
    found = _entry_points()
    rows = []
    for name in sorted(set(found) | set(KNOWN_PROVIDERS)):
        ep = found.get(name)
        if ep is None:
            rows.append(ProviderInfo(name, installed=False, install_hint=KNOWN_PROVIDERS[name]))
            continue
        dist, ver = _distribution_of(ep)
        rows.append(ProviderInfo(name, True, dist, ver, ep.value, KNOWN_PROVIDERS.get(name)))
    return rows


def provider_class(name: str) -> type[Provider]:
    """The provider class registered under ``name`` (imports its package on first use)."""
    ep = _entry_points().get(name)
    if ep is None:
        if name in KNOWN_PROVIDERS:
            raise ProviderNotInstalledError(name, KNOWN_PROVIDERS[name])
        known = sorted(set(_entry_points()) | set(KNOWN_PROVIDERS))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownProviderError(
            f"unknown provider {name!r}.{hint} Known providers: {', '.join(known)}"
        )
    try:
        cls = ep.load()
    except ImportError as exc:
        hint = KNOWN_PROVIDERS.get(name, f"reinstall the package that provides {ep.value}")
        raise ProviderNotInstalledError(name, hint) from exc
    return cast("type[Provider]", cls)


def import_problem(name: str) -> str | None:
    """Why the installed provider ``name`` cannot be imported (None when it can, or is absent).

    ``ftbridge providers`` calls it so that a package whose import fails (a missing or broken
    dependency) is shown as broken, with the error, instead of "installed".
    """
    ep = _entry_points().get(name)
    if ep is None:
        return None
    try:
        ep.load()
    except Exception as exc:  # any import-time failure: ImportError, a SyntaxError, ...
        return f"{type(exc).__name__}: {exc}"
    return None


def get_provider(name: str | None = None, **settings: Any) -> Provider:
    """Build a provider from the configuration, with ``settings`` overriding it.

    >>> provider = ftbridge.get_provider("openai", base_url="http://127.0.0.1:8000/v1")
    """
    from ._arguments import text_or_none
    from ._config import load_config
    from ._secrets import register_settings

    text_or_none("provider", name, "a provider name such as 'openai'")
    config = load_config()
    name = name or config.default_provider
    if not name:
        raise ConfigError(
            "no provider given: pass provider=..., set FTBRIDGE_PROVIDER, or set "
            "[defaults] provider in ftbridge.toml"
        )
    register_settings(settings)  # the file's secrets are registered as it is read
    merged: Mapping[str, Any] = {**config.provider_settings(name), **settings}
    return provider_class(name).from_config(merged)
