"""Fixtures for serving: adapters made with PEFT on the tiny model, a server, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import API_KEY, OWN_TEMPLATE, Adapters, Reference, make_adapter


@pytest.fixture(scope="session")
def adapters(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Adapters:
    root = tmp_path_factory.mktemp("adapters")
    paths = {
        "support": make_adapter(tiny_model, root / "support", seed=1),
        "legal": make_adapter(tiny_model, root / "legal", seed=2, rank=8),
        "brief": make_adapter(tiny_model, root / "brief", seed=3, template=OWN_TEMPLATE),
        "extra": make_adapter(tiny_model, root / "extra", seed=4, meta=False),
        "dora": make_adapter(tiny_model, root / "dora", seed=5, dora=True),
    }
    return Adapters(tiny_model, paths)


@pytest.fixture(scope="session")
def reference() -> Reference:
    return Reference()


@pytest.fixture(scope="module")
def server(adapters: Adapters) -> Iterator[Any]:
    """A server with three adapters on the tiny model, an API key, on a free loopback port."""
    import ftbridge

    names = ("support", "legal", "brief")
    with ftbridge.serve(
        base=str(adapters.base),
        adapters={n: str(adapters.paths[n]) for n in names},
        port=0,
        api_key=API_KEY,
        max_tokens=2000,
    ) as started:
        yield started


@pytest.fixture
def client(server: Any) -> Any:
    import openai

    return openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
