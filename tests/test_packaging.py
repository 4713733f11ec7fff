"""The install layout: api/ and indexer/ ship as xsearch.api / xsearch.indexer.

pyproject lists every package by hand (a package-dir mapping cannot be found
automatically); a new folder with an __init__.py that is not listed would be
missing from the wheel and only fail for users, so this test fails first.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed() -> None:
    cfg = _config()
    mapping: dict[str, str] = cfg["package-dir"]
    found: set[str] = set()
    for name, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    listed = set(cfg["packages"])
    assert found == listed, (
        f"not listed in pyproject [tool.setuptools] packages: {sorted(found - listed)}; "
        f"listed but absent: {sorted(listed - found)}"
    )


def test_no_top_level_api_or_indexer_import() -> None:
    """Code imports the outer layers as xsearch.api / xsearch.indexer only."""
    import re

    bad = re.compile(r"^\s*(from|import) (api|indexer)[.\s]", re.M)
    offenders = [
        str(p.relative_to(REPO))
        for top in ("xsearch", "api", "indexer", "tests", "bench")
        for p in (REPO / top).rglob("*.py")
        if bad.search(p.read_text())
    ]
    assert offenders == []


def test_outer_layers_import_under_xsearch() -> None:
    import xsearch.api.app
    import xsearch.indexer.pipeline

    assert Path(xsearch.api.app.__file__).parent == REPO / "api"
    assert Path(xsearch.indexer.pipeline.__file__).parent == REPO / "indexer"
    assert "api" not in sys.modules and "indexer" not in sys.modules
