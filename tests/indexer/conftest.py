"""Helpers for the indexer tests: settings in a temp home, corpora, store snapshots."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xsearch.runtime import Engine
from xsearch.settings import Settings

# Real sentences in several scripts (a built-in list: tests must not need ../shared/data).
SENTENCES = [
    "The river floods the valley every spring.",
    "Scientists measured the temperature of the lake at dawn.",
    "Der Zug nach Berlin fährt um acht Uhr ab.",
    "Die Bibliothek der Universität wurde im Jahr 1850 gegründet.",
    "El mercado abre temprano los sábados por la mañana.",
    "La catedral fue construida durante tres siglos.",
    "Le musée présente une collection de peintures anciennes.",
    "Les enfants jouent dans le parc après l'école.",
    "Москва является столицей и крупнейшим городом России.",
    "Учёные изучают поведение птиц во время миграции.",
    "القاهرة هي عاصمة جمهورية مصر العربية.",
    "يعمل الباحثون على تطوير لقاحات جديدة.",
    "東京は日本の首都であり、世界有数の大都市です。",
    "北京是中华人民共和国的首都。",
    "भारत एक विशाल और विविधतापूर्ण देश है।",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
]


def make_docs(n: int, *, seed: int = 0, long_every: int = 10) -> list[dict[str, Any]]:
    """n documents; every ``long_every``-th one is long enough for several passages."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        count = rng.randint(40, 80) if long_every and i % long_every == 0 else rng.randint(1, 4)
        text = " ".join(rng.choice(SENTENCES) for _ in range(count))
        docs.append({"id": f"doc-{i:05d}", "text": text, "title": f"Title {i}", "n": i})
    return docs


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def engine(settings: Settings, tiny_bundle: Path) -> Iterator[Engine]:
    with Engine.open(settings, bundle=str(tiny_bundle)) as eng:
        yield eng


def snapshot(settings: Settings, collection: str) -> dict[str, tuple[dict, np.ndarray]]:
    """Every point of a collection: id -> (payload, dense vector). Opens and closes the store."""
    from xsearch.store import open_store

    with open_store(settings) as store:
        return {
            p.id: (p.payload, p.vectors["dense"] if p.vectors else np.zeros(0))
            for p in store.scroll(collection, with_vectors=True)
        }


def assert_same_collection(a: dict, b: dict) -> None:
    """Same ids, same payloads, and the same vectors up to float noise.

    A passage's vector depends slightly on the batch it was encoded in: padding
    width changes the kernels' summation order, and dynamic int8 quantizes each
    activation tensor with a scale taken from the whole batch (0.9975 seen after
    an interrupted run, whose batches hold other passages); hence cosine, not
    equality, with a bound far above what a wrong vector gives.
    """
    assert sorted(a) == sorted(b), f"{len(a)} points vs {len(b)}"
    for pid in a:
        assert a[pid][0] == b[pid][0], pid
        cos = float(np.dot(a[pid][1], b[pid][1]))
        assert cos > 0.99, (pid, cos)
