"""What each supported Python needs is declared, and every place that names the supported
Pythons (the distributions, the README, CI, the type checker) names the same ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ftbridge._config import tomllib

REPOSITORY = Path(__file__).resolve().parents[2]
PYPROJECTS = sorted([REPOSITORY / "pyproject.toml", *REPOSITORY.glob("providers/*/pyproject.toml")])
SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]


def project(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    return data


def requirement(project_table: dict[str, Any], name: str) -> str:
    found = [r for r in project_table["dependencies"] if re.match(rf"{name}\b", r)]
    assert len(found) == 1, f"{name} is not a dependency"
    return str(found[0])


def test_python_310_gets_a_toml_reader() -> None:
    tomli = requirement(project(REPOSITORY / "pyproject.toml")["project"], "tomli")
    marker = tomli.split(";", 1)[1].replace('"', "'").replace(" ", "")
    assert marker == "python_version<'3.11'"


def test_the_openai_emulator_needs_nothing_beyond_the_provider() -> None:
    # The README runs `python -m ftbridge_openai.emulator` after a plain install.
    openai = project(REPOSITORY / "providers" / "openai" / "pyproject.toml")["project"]
    assert requirement(openai, "jsonschema").startswith("jsonschema>=")


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: str(p.relative_to(REPOSITORY)))
def test_every_distribution_names_the_same_pythons(path: Path) -> None:
    table = project(path)["project"]
    assert table["requires-python"] == f">={SUPPORTED[0]}"
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in table.get("classifiers", [])
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert versions == SUPPORTED


def test_readme_ci_and_type_checker_agree() -> None:
    readme = (REPOSITORY / "README.md").read_text("utf-8")
    assert f"Python {SUPPORTED[0]} to {SUPPORTED[-1]}" in readme
    ci = (REPOSITORY / ".ci" / "run").read_text("utf-8")
    assert f"SUPPORTED_EXTREMES=({SUPPORTED[0]} {SUPPORTED[-1]})" in ci
    tools = project(REPOSITORY / "pyproject.toml")["tool"]
    assert tools["mypy"]["python_version"] == SUPPORTED[0]
    assert tools["ruff"]["target-version"] == "py" + SUPPORTED[0].replace(".", "")
