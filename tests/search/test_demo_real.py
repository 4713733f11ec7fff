"""The demo collection with the real bundle: each question finds its story first.

Slow: needs the real default bundle. The demo corpus (xsearch/data/demo.jsonl)
holds stories in one language only and stories translated into two or three;
a question is answered by any language version of its story (metadata
``story``). Issue 11: "Wann blühen die Kirschbäume in Tokio?" ranked the German
panda article above the only (Japanese) cherry-blossom article, and
"¿Dónde nació un bebé panda?" was detected as "und", so the word "un" let a
French article in through the lexical vote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xsearch.cli.demo import DEMO_QUERIES, demo_documents
from xsearch.documents import Document
from xsearch.schemas import SearchRequest

pytestmark = pytest.mark.slow

# query -> the story that answers it (the demo's own questions first)
STORY = {
    "¿Dónde nació un bebé panda?": "panda",
    "How much energy does the new solar plant produce?": "solar",
    "Wann blühen die Kirschbäume in Tokio?": "cherry",
    "क्या ब्याज दरें बढ़ीं?": "rates",
    "Какая планета исследует зонд?": "jupiter",
    "earthquake drill": "quake-drill",
}
# more questions, each in another language than (some version of) its story
MORE = [
    ("Was wurde in der Nähe von Luxor entdeckt?", None, "tomb"),
    ("火山の噴火で空港は閉鎖されましたか", None, "etna"),
    ("Which team won the cricket match?", None, "cricket"),
    ("¿Cuánto tarda el nuevo tren de alta velocidad entre Pekín y Shanghái?", None, "rail"),
    ("Почему бастуют машинисты поездов?", None, "strike"),
    ("Quelle nouvelle ligne de métro relie le centre à l'aéroport ?", None, "subway"),
    ("How thick is the ice on Lake Baikal?", None, "baikal"),
    ("Quanto custa entrar em Veneza?", None, "venice"),
    ("Why is Mexico City short of water?", None, "water"),
]


# Known misses with the int8 default bundle, measured for every balance x mode
# ("Which team won the cricket match?" was one until the leave-one-out centring
# scale of issue 11: fair/centered had put the Spanish football article first)
# (strict: when the ranking or the bundle fixes one, the XPASS fails and the
# mark must go).
KNOWN_MISSES = {
    # the Japanese article is 3rd (fair, centered) to 6th (dense + none) under every setting:
    # the encoder ranks German articles closer to this German question
    "Wann blühen die Kirschbäume in Tokio?": "encoder: ja article 3rd-6th under every setting",
}


def cases() -> list[tuple[str, list[str] | None, str]]:
    return [(q, langs, STORY[q]) for q, langs in DEMO_QUERIES] + MORE


def params() -> list:
    return [
        pytest.param(
            q, langs, story, id=q[:30],
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[q])]
            if q in KNOWN_MISSES else [],
        )
        for q, langs, story in cases()
    ]


def test_every_demo_question_has_its_story() -> None:
    stories = {d["metadata"]["story"] for d in demo_documents()}
    assert {q for q, _ in DEMO_QUERIES} == set(STORY)
    assert {story for _, _, story in cases()} <= stories
    docs = demo_documents()
    langs = {d["id"].split("-")[1] for d in docs}
    per_story: dict[str, int] = {}
    for d in docs:
        per_story[d["metadata"]["story"]] = per_story.get(d["metadata"]["story"], 0) + 1
    # the shape the demo promises: ~30-40 articles, ~12 languages, both kinds of story
    assert 30 <= len(docs) <= 40 and len(langs) >= 12
    assert sum(n == 1 for n in per_story.values()) >= 10
    assert sum(n >= 2 for n in per_story.values()) >= 5


@pytest.fixture(scope="module")
def engine(real_bundle: Path, real_settings, tmp_path_factory):  # noqa: ANN001, ANN201
    from xsearch.runtime import Engine

    settings = real_settings.model_copy(
        update={"home": tmp_path_factory.mktemp("demo"), "qdrant_url": None}
    )
    (settings.home / "models").mkdir(parents=True)
    (settings.home / "models" / real_bundle.name).symlink_to(real_bundle)
    eng = Engine(settings)
    docs = [Document.from_dict(d) for d in demo_documents()]
    assert all(r.status == "indexed" for r in eng.indexer.index_documents("demo", docs))
    yield eng
    eng.close()


@pytest.mark.parametrize(("query", "langs", "story"), params())
def test_question_finds_its_story_first(engine, query: str, langs, story: str) -> None:  # noqa: ANN001
    resp = engine.searcher.search(SearchRequest(query=query, collection="demo", k=3, langs=langs))
    top = [(h.doc_id, h.metadata.get("story"), round(h.score, 3)) for h in resp.hits]
    assert resp.query_lang != "und", resp.query_lang  # every one of them is a sentence or two words
    assert top and top[0][1] == story, (resp.query_lang, top)


def test_the_demo_command_runs_and_reruns(real_bundle: Path, tmp_path: Path) -> None:
    """`make demo`'s command itself, in a subprocess (the README's first command):
    it indexes the corpus, asks every demo question, and a second run changes nothing."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / real_bundle.name).symlink_to(real_bundle)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSEARCH_")}
    env.update(XSEARCH_HOME=str(home), XSEARCH_DEFAULT_BUNDLE=real_bundle.name, COLUMNS="200")

    def demo() -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "xsearch.cli.main", "demo"],
            env=env, capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        return proc.stdout

    n = len(demo_documents())
    first = demo()
    assert "building the default model bundle" not in first  # the bundle was found
    assert f"{n} documents indexed, 0 unchanged" in first, first[:2000]
    for query, _ in DEMO_QUERIES:
        assert query in first, query
    assert first.count("query language:") == len(DEMO_QUERIES)
    assert "no hits" not in first and "search warm-up" in first
    assert f"0 documents indexed, {n} unchanged" in demo()  # re-run: nothing written twice
