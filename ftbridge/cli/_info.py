"""``providers`` and ``config show``."""

from __future__ import annotations

import argparse
from typing import Any

from .._config import load_config, mask_secrets
from .._exceptions import FtbridgeError
from .._registry import get_provider, import_problem, list_providers
from ._common import add_json_flag
from ._output import print_json


def register(sub: Any) -> None:
    p = sub.add_parser("providers", help="list providers, installed or not")
    add_json_flag(p)
    p.set_defaults(handler=providers)
    p = sub.add_parser("config", help="show the effective configuration")
    config_sub = p.add_subparsers(dest="config_command", metavar="ACTION")
    config_sub.required = True
    show = config_sub.add_parser("show", help="print the effective config, secrets masked")
    add_json_flag(show)
    show.set_defaults(handler=config_show)


def providers(args: argparse.Namespace) -> int:
    rows = list_providers()
    problems = {r.name: import_problem(r.name) for r in rows if r.installed}
    if args.json:
        print_json([{**r.__dict__, "error": problems.get(r.name)} for r in rows])
        return 0
    for r in rows:
        problem = problems.get(r.name)
        if problem:
            hint = r.install_hint or f"reinstall {r.distribution or 'its package'}"
            print(f"{r.name:<10} broken: {problem}  (fix: {hint})")
        elif r.installed:
            print(f"{r.name:<10} installed  {r.distribution} {r.version or ''}".rstrip())
        else:
            print(f"{r.name:<10} missing    {r.install_hint}")
    return 0


def config_show(args: argparse.Namespace) -> int:
    config = load_config()
    effective: dict[str, Any] = {
        "file": str(config.path) if config.path else None,
        "defaults": {"provider": config.default_provider, "model": config.default_model},
        "sources": dict(config.sources),
        "providers": {},
    }
    names = set(config.providers) | {r.name for r in list_providers() if r.installed}
    for name in sorted(names):
        try:
            settings = get_provider(name).describe_config()
        except FtbridgeError as exc:  # not installed, no credentials yet...
            settings = {**config.provider_settings(name), "note": str(exc)}
        effective["providers"][name] = mask_secrets(settings)
    if args.json:
        print_json(effective)
        return 0
    print(f"config file: {effective['file'] or '(none found)'}")
    for key, value in effective["defaults"].items():
        source = config.sources.get(key)
        print(f"defaults.{key} = {value!r}" + (f"  (from {source})" if source else ""))
    for name, settings in effective["providers"].items():
        print(f"[providers.{name}]")
        for key, value in settings.items():
            print(f"  {key} = {value!r}")
    return 0
