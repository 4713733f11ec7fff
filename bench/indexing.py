"""Bulk indexing throughput: the pipeline against the encoder alone, in one run.

A generated multilingual corpus (default 20,000 documents) built from real
sentences — Tatoeba (8 languages + English) and XQuAD paragraphs (12
languages) from ../shared/data when present, else a small built-in list — is
indexed by the bulk pipeline (reader -> plan + chunk -> encoder -> writer)
into a fresh embedded store. Reported side by side:

- documents/s and passages/s of the whole pipeline;
- the share of wall time the encoder was idle ("outside the encoder"; goal < 15%);
- the encoder's own passages/s on a sample of the same passage texts, encoded
  alone in the same process right before and right after the pipeline run (the
  ceiling the pipeline can reach; two measurements show how much the machine's
  load moved meanwhile);
- the CPU cost of chunking + language detection per document, measured alone.

Example:
    python -m bench.indexing                              # 20k documents, default bundle
    python -m bench.indexing --docs 2000 --bundle .xsearch-test/models/multilingual-e5-small

Writes bench/results/indexing.json (figures + provenance header); the README's
indexing table is generated from it (bench/tables/indexing.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import DATA, RESULTS, find_bundle, machine_info, print_table
from xsearch.provenance import write_result

FALLBACK = {
    "en": ["The river floods the valley every spring.", "The library opens at nine."],
    "de": ["Der Zug nach Berlin fährt um acht Uhr ab.", "Die Bibliothek ist heute geschlossen."],
    "es": ["El mercado abre temprano los sábados.", "La catedral fue construida hace siglos."],
    "fr": ["Le musée présente des peintures anciennes.", "Les enfants jouent dans le parc."],
    "ru": ["Москва является столицей России.", "Учёные изучают миграцию птиц."],
    "ar": ["القاهرة هي عاصمة مصر.", "يعمل الباحثون على لقاحات جديدة."],
    "zh": ["北京是中华人民共和国的首都。", "图书馆今天不开门。"],
    "ja": ["東京は日本の首都です。", "図書館は九時に開きます。"],
}
TATOEBA = {"ara": "ar", "cmn": "zh", "deu": "de", "fra": "fr", "hin": "hi", "jpn": "ja"}
TATOEBA |= {"rus": "ru", "spa": "es"}


# --- the corpus ----------------------------------------------------------------------
def load_sentences(data: Path) -> tuple[dict[str, list[str]], list[dict[str, Any]], str]:
    """Sentences per language and XQuAD paragraphs; the source named for the report."""
    sentences: dict[str, list[str]] = {}
    tatoeba = data / "tatoeba"
    if tatoeba.is_dir():
        for code, lang in TATOEBA.items():
            path = tatoeba / f"{code}-eng.tsv"
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                xx, _, en = line.partition("\t")
                sentences.setdefault(lang, []).append(xx.strip())
                sentences.setdefault("en", []).append(en.strip())
    paragraphs: list[dict[str, Any]] = []
    xquad = data / "xquad" / "parallel_paragraphs.jsonl"
    if xquad.is_file():
        for line in xquad.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            title = row["title_en"].replace("_", " ")
            paragraphs += [
                {"lang": k, "text": v, "title": title} for k, v in row["context"].items()
            ]
    if not sentences:
        return FALLBACK, paragraphs, "built-in sentences (../shared/data not found)"
    source = "Tatoeba sentences" + (" + XQuAD paragraphs" if paragraphs else "")
    return sentences, paragraphs, source


def make_corpus(n: int, seed: int, data: Path) -> tuple[list[dict[str, Any]], str]:
    """n documents: 70% short articles of 2-8 sentences in one language, 30% XQuAD
    paragraphs (one or two of the same language: some documents take several passages)."""
    rng = random.Random(seed)
    sentences, paragraphs, source = load_sentences(data)
    langs = sorted(sentences)
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for p in paragraphs:
        by_lang.setdefault(p["lang"], []).append(p)
    docs = []
    for i in range(n):
        if paragraphs and rng.random() < 0.3:
            first = rng.choice(paragraphs)
            parts = [first["text"]]
            if rng.random() < 0.3:
                parts.append(rng.choice(by_lang[first["lang"]])["text"])
            docs.append({"id": f"b{i}", "title": first["title"], "text": "\n\n".join(parts)})
        else:
            pool = sentences[rng.choice(langs)]
            text = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 8)))
            docs.append({"id": f"b{i}", "text": text, "source": "tatoeba"})
    return docs, source


def write_corpus(docs: list[dict[str, Any]], folder: Path) -> Path:
    """The documents as ``folder/corpus.jsonl``, the input of ``xsearch index``."""
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    return corpus


# --- measurements --------------------------------------------------------------------
def run_pipeline(
    engine: Any,
    corpus: Path,
    unit_passages: int,
    switch_interval: float | None = 0.0005,
    side_nice: int | None = None,
    collection: str = "bench",
) -> Any:
    from rich.console import Console
    from xsearch.indexer.pipeline import Pipeline, PipelineConfig
    from xsearch.indexer.progress import LogReporter
    from xsearch.indexer.rejects import RejectSink
    from xsearch.indexer.sources import SourceOptions, plan_inputs

    options = SourceOptions()
    config = PipelineConfig(
        collection, unit_passages=unit_passages, switch_interval=switch_interval or None
    )
    if side_nice is not None:
        config.side_nice = side_nice
    reporter = LogReporter(Console(stderr=True), interval=15.0)
    with RejectSink(None) as sink:
        pipe = Pipeline(
            engine.indexer, plan_inputs([str(corpus)], options), options, config, sink, reporter
        )
        return pipe.run()


def sample_passages(engine: Any, docs: list[dict[str, Any]], n: int, seed: int) -> list[str]:
    """Encoder input of about n passages: random documents chunked as the pipeline does."""
    from xsearch.documents import Document

    svc, texts = engine.indexer, []
    rng = random.Random(seed)
    for d in rng.sample(docs, len(docs)):
        item = svc.planned([Document.from_dict(d)])[0]
        svc.chunk(item)
        texts += [p.encode_text for p in item.passages]
        if len(texts) >= n:
            break
    return texts


def encoder_alone(engine: Any, texts: list[str]) -> dict[str, float]:
    cpu = time.process_time()
    _, stats = engine.encoder.encode_with_stats(texts, "passage")
    return {"passages": len(texts), "seconds": stats.seconds, "rate": len(texts) / stats.seconds,
            "cpu_s": time.process_time() - cpu}  # fmt: skip


def stage_shares(st: Any, process_cpu: float) -> dict[str, float]:
    """Each stage's share of the pipeline's process CPU (RunStats.stage_cpu: one
    thread per stage); what no stage thread ran is onnxruntime's intra-op
    worker thread(s), the reporter and the interpreter's other threads."""
    shares = {k: v / process_cpu for k, v in sorted(st.stage_cpu.items())}
    shares["onnxruntime worker threads + rest"] = 1.0 - sum(shares.values())
    return {k: round(v, 4) for k, v in shares.items()}


def chunk_alone(engine: Any, docs: list[dict[str, Any]]) -> float:
    """CPU seconds per document of chunking + language detection, without the encoder."""
    from xsearch.documents import Document

    svc = engine.indexer
    items = svc.planned([Document.from_dict(d) for d in docs])
    started = time.process_time()
    for item in items:
        svc.chunk(item)
    return (time.process_time() - started) / len(items)


def side_nices(option: str | None) -> list[int | None]:
    """The niceness of each pipeline run (None: the pipeline's default)."""
    if not option:
        return [None]
    return [int(v) for v in option.split(",")]


def attempt(nice: int | None, st: Any, process_cpu: float, alone: dict) -> dict[str, Any]:
    rate = st.passages / st.wall_seconds
    ceiling = (alone["before"]["rate"] + alone["after"]["rate"]) / 2
    return {
        "side_nice": nice,
        "passages_per_s": round(rate, 2),
        "pipeline_over_encoder_alone": round(rate / ceiling, 3),
        "cpu_ms_per_passage": round(1000 * process_cpu / max(st.passages, 1), 2),
        "stage_cpu_s": {k: round(v, 2) for k, v in sorted(st.stage_cpu.items())},
    }


# --- report --------------------------------------------------------------------------
def results(
    args: argparse.Namespace,
    source: str,
    engine: Any,
    st: Any,
    alone: dict,
    chunk: float,
    info: dict[str, str],
    process_cpu: float,
) -> dict[str, Any]:
    enc = engine.encoder
    before, after = alone["before"]["rate"], alone["after"]["rate"]
    pipe_rate = st.passages / st.wall_seconds
    alone_cpu = sum(a["cpu_s"] for a in alone.values()) / sum(a["passages"] for a in alone.values())
    pipe_cpu = process_cpu / max(st.passages, 1)
    out = {
        "corpus": source,
        "seed": args.seed,
        "bundle": {
            "name": enc.name,
            "variant": enc.variant,
            "provider": enc.provider,
            "threads": enc.threads,
        },
        "unit_passages": args.unit_passages,
        "switch_interval_s": args.switch_interval or None,
        "documents": st.indexed,
        "passages": st.passages,
        "wall_s": round(st.wall_seconds, 2),
        "documents_per_s": round(st.docs_per_second, 2),
        "passages_per_s": round(pipe_rate, 2),
        "encoder_alone_passages": alone["after"]["passages"],
        "encoder_alone_per_s_before": round(before, 2),
        "encoder_alone_per_s_after": round(after, 2),
        "pipeline_over_encoder_alone": round(pipe_rate / ((before + after) / 2), 3),
        "encoder_busy_s": round(st.encode_seconds, 2),
        "outside_encoder_share": round(st.outside_encoder, 4),
        "store_writes_s": round(st.store_seconds, 2),
        "plan_chunk_langid_s": round(st.plan_seconds, 2),
        "chunk_langid_cpu_ms_per_doc": round(chunk * 1000, 3),
        "batch_tokens": enc.batch_tokens,
        "cpu_ms_per_passage_pipeline": round(1000 * pipe_cpu, 2),
        "cpu_ms_per_passage_encoder_alone": round(1000 * alone_cpu, 2),
        # the pipeline's CPU beyond the encoder's, as a share of the encoder's
        "extra_cpu_over_encoder": round(pipe_cpu / alone_cpu - 1, 4),
        "process_cpu_s": round(process_cpu, 2),
        "stage_cpu_s": {k: round(v, 2) for k, v in sorted(st.stage_cpu.items())},
        "stage_cpu_share": stage_shares(st, process_cpu),
        "optimize_s": round(st.optimize_seconds, 2),
        "load_at_start": float(info["load average (1 min) now"]),
        "machine": info,
    }
    rows = [[k, v] for k, v in out.items() if not isinstance(v, dict)]
    print_table("bulk indexing", ["measure", "value"], rows)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=20_000, help="documents to generate")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: settings)")
    ap.add_argument("--variant", default=None, help="auto|fp32|int8|fp16")
    ap.add_argument("--unit-passages", type=int, default=512, help="passages per encoder call")
    ap.add_argument("--switch-interval", type=float, default=0.0005,
                    help="GIL switch interval in the pipeline, s (0: Python's)")  # fmt: skip
    ap.add_argument("--batch-tokens", type=int, default=None,
                    help="encoder token budget per batch (default: the settings')")  # fmt: skip
    ap.add_argument("--side-nice", default=None,
                    help="niceness of the side stages, comma-separated: one pipeline run "
                         "each (the first is the table's; default: the pipeline's)")  # fmt: skip
    ap.add_argument("--encoder-sample", type=int, default=2000, help="passages encoded alone")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=RESULTS / "indexing.json", help="result file")
    ap.add_argument("--no-write", action="store_true", help="do not write the result file")
    args = ap.parse_args(argv)

    from xsearch.runtime import Engine
    from xsearch.settings import get_settings

    info = machine_info(["onnxruntime", "qdrant-edge-py", "langdetect"])  # load at start
    docs, source = make_corpus(args.docs, args.seed, args.data)
    with tempfile.TemporaryDirectory(prefix="xsearch-bench-") as tmp:
        corpus = write_corpus(docs, Path(tmp))
        update: dict[str, Any] = {"home": Path(tmp) / "home"}
        if args.batch_tokens:
            update["batch_tokens"] = args.batch_tokens
        settings = get_settings().model_copy(update=update)
        bundle = str(find_bundle(args.bundle))
        with Engine.open(settings, bundle=bundle, variant=args.variant) as engine:
            engine.encoder.encode(["warm-up"])  # session start-up is not indexing time
            sample = sample_passages(engine, docs, args.encoder_sample, args.seed)
            alone = {"before": encoder_alone(engine, sample)}
            print(f"indexing {len(docs):,} documents ({source})", file=sys.stderr)
            runs = []
            for n, nice in enumerate(side_nices(args.side_nice)):
                cpu = time.process_time()
                stats = run_pipeline(
                    engine, corpus, args.unit_passages, args.switch_interval, nice, f"bench{n}"
                )
                runs.append((nice, stats, time.process_time() - cpu))
            from xsearch.indexer.pipeline import maybe_optimize

            nice, stats, process_cpu = runs[0]
            maybe_optimize(engine.indexer, "bench0", stats)
            alone["after"] = encoder_alone(engine, sample)
            chunk = chunk_alone(engine, random.Random(args.seed).sample(docs, min(500, len(docs))))
            out = results(args, source, engine, stats, alone, chunk, info, process_cpu)
            out["side_nice"] = nice
            if len(runs) > 1:  # every attempt side by side, against the same encoder-alone runs
                out["attempts"] = [attempt(n, st, cpu, alone) for n, st, cpu in runs]
                print_table(
                    "side-stage niceness",
                    ["side nice", "passages/s", "pipeline / encoder alone", "CPU ms/passage"],
                    [[a["side_nice"], a["passages_per_s"], a["pipeline_over_encoder_alone"],
                      a["cpu_ms_per_passage"]] for a in out["attempts"]],
                )  # fmt: skip
    print(json.dumps(out, ensure_ascii=False))
    if not args.no_write:
        argv = sys.argv[1:] if argv is None else argv
        path = write_result(args.out, out, command=["python", "-m", "bench.indexing", *argv])
        print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
