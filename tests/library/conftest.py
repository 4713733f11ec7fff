"""One suite, two implementations: ``xsearch.Engine`` in-process and ``xsearch.Client``
against a real ``xsearch serve`` process (tiny random-weight bundle, fresh temp home).

``surface`` is parametrised over both, the way the store tests run on both stores.
Both live for the session (starting a server per test would cost seconds each);
each test gets its own collection name, so tests do not see each other's documents.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import home_with_bundle, running_server, serve_env
from xsearch.client import Client
from xsearch.library import SearchEngine
from xsearch.runtime import Engine
from xsearch.settings import Settings

_names = itertools.count()


def engine_settings(home: Path, bundle: Path) -> Settings:
    """Settings that read nothing from the environment (the suite must not depend on it)."""
    return Settings(
        _env_file=None, home=home_with_bundle(home, bundle), default_bundle=bundle.name,
        qdrant_url=None, api_keys=[], api_keys_file=None, public_search=True, threads=1,
    )


@pytest.fixture(scope="session")
def library_engine(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = tmp_path_factory.mktemp("library-engine")
    with Engine(settings=engine_settings(home, tiny_bundle)) as engine:
        yield engine


@pytest.fixture(scope="session")
def server_url(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = home_with_bundle(tmp_path_factory.mktemp("library-server"), tiny_bundle)
    env = serve_env(home, tiny_bundle.name, XSEARCH_THREADS="1")
    with running_server(env) as (url, _proc):
        yield url


@pytest.fixture(params=["engine", "client"])
def surface(request: pytest.FixtureRequest) -> Iterator[SearchEngine]:
    """An Engine or a Client, set to a collection no other test uses."""
    name = f"lib{next(_names)}"
    if request.param == "engine":
        engine: Engine = request.getfixturevalue("library_engine")
        previous = engine.collection
        engine.collection = name
        yield engine
        engine.collection = previous
    else:
        with Client(request.getfixturevalue("server_url"), collection=name) as client:
            yield client
