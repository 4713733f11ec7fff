"""The README's "Use it from Python" examples run as written (tiny bundle, temp home).

Both blocks run in one namespace, as a reader would paste them into one
session: the Engine block, then (once it has closed the store) ``xsearch serve``
starts on the same home and the Client block runs against it. The only change
to the text is the server address (the test server listens on a free port).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.server import REPO, home_with_bundle, running_server, serve_env
from xsearch.settings import get_settings

SECTION = "## Use it from Python"
DEFAULT_URL = "http://127.0.0.1:8000"


def python_blocks(readme: str) -> list[str]:
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else None]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_use_it_from_python_examples_run(
    tiny_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine_block, client_block = python_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    assert "xsearch.Engine(" in engine_block and "xsearch.Client(" in client_block
    assert DEFAULT_URL in client_block

    home = home_with_bundle(tmp_path / "home", tiny_bundle)
    env = serve_env(home, tiny_bundle.name, XSEARCH_THREADS="1")
    for key, value in env.items():
        if key.startswith("XSEARCH_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()  # the example reads its settings from the environment
    namespace: dict[str, object] = {}
    try:
        exec(compile(engine_block, "README.md (Engine)", "exec"), namespace)
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "indexed 3 ['indexed', 'indexed', 'indexed']" in out
    assert "stored: Rückerstattungen werden innerhalb von 14 Tagen bearbeitet." in out
    assert re.search(r"languages: \{.*'de': 1", out), out
    assert "vectors: (2, " in out

    with running_server(env) as (url, _proc):
        code = client_block.replace(DEFAULT_URL, url)
        exec(compile(code, "README.md (Client)", "exec"), namespace)
    out = capsys.readouterr().out
    assert "again: ['unchanged', 'unchanged', 'unchanged']" in out
    assert re.search(r"langs: \[('de'|'fr')", out), out
    assert re.search(r"removed passages: [1-9]", out), out
    assert "error: CollectionNotFound" in out
