"""Bitext retrieval (Tatoeba / BUCC style): find each sentence's translation.

Data: TSV files of aligned pairs ``sentence<TAB>translation`` (one pair a line;
a folder stands for every ``*.tsv`` in it; the file name ``deu-eng.tsv`` names
the two languages), or two line-aligned plain-text files (line i of one is the
translation of line i of the other; the languages come from the file suffixes,
e.g. ``test.de`` / ``test.en``).

Protocol (LASER / XTREME / MTEB): encode both sides, cosine similarity, for
every source sentence the nearest target sentence must be its own translation
(accuracy@1), and the same in the other direction. Both sides are encoded with
the *query* prompt by default: MTEB encodes bitext with the model's default
prompt, which for e5 models is ``query: `` (the e5 model card: use ``query:``
for symmetric tasks such as bitext mining). ``kind="passage"`` is available
to compare; see the report of this module's author for the figures of both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from xsearch.errors import InputError
from xsearch.evaluation.metrics import accuracy_at_1

if TYPE_CHECKING:
    from xsearch.encoder import Encoder

Kind = Literal["query", "passage"]
REFERENCE_FILE = "reference.json"


@dataclass
class BitextSet:
    name: str  # e.g. "deu-eng"
    src_lang: str
    tgt_lang: str
    src: list[str]
    tgt: list[str]
    source: str  # the file(s) it came from, for messages and the report


@dataclass
class PairResult:
    name: str
    src_lang: str
    tgt_lang: str
    pairs: int
    src_to_tgt: float  # accuracy@1 in percent
    tgt_to_src: float
    truncated: int  # sentences cut at the model's window (reported, never silent)
    reference: float | None = None  # published src->tgt figure, percent

    @property
    def mean(self) -> float:
        return (self.src_to_tgt + self.tgt_to_src) / 2


@dataclass
class BitextReport:
    bundle: str
    variant: str
    fingerprint: str
    kind: str
    pairs: list[PairResult]
    reference_model: str | None = None
    reference_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_src_to_tgt(self) -> float:
        return float(np.mean([p.src_to_tgt for p in self.pairs]))

    @property
    def mean_tgt_to_src(self) -> float:
        return float(np.mean([p.tgt_to_src for p in self.pairs]))

    @property
    def mean_reference(self) -> float | None:
        refs = [p.reference for p in self.pairs]
        if not refs or any(r is None for r in refs):
            return None  # a mean over some languages only would not be comparable
        return float(np.mean(refs))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for row, pr in zip(out["pairs"], self.pairs, strict=True):
            row["mean"] = round(pr.mean, 2)
        out["unit"] = "percent accuracy@1"
        out["mean_src_to_tgt"] = round(self.mean_src_to_tgt, 2)
        out["mean_tgt_to_src"] = round(self.mean_tgt_to_src, 2)
        out["mean_reference"] = self.mean_reference
        return out


def report_document(report: BitextReport) -> dict[str, Any]:
    """The JSON an evaluation writes and prints: the provenance header (command,
    commit, dirty flag, machine, load) and the figures. The README's Tatoeba
    table is generated from such files (``bench/tables/bitext.py``)."""
    from xsearch.provenance import provenance

    return {"provenance": provenance(), "results": report.to_dict()}


def write_report(path: Path, report: BitextReport) -> Path:
    """``report_document`` written to ``path`` (parents created)."""
    from xsearch.provenance import write_result

    return write_result(path, report.to_dict())


# --- reading -----------------------------------------------------------------
def load_bitext(paths: Sequence[Path]) -> list[BitextSet]:
    """Read every set named by ``paths``: folders (their ``*.tsv``), ``.tsv`` files, and
    the remaining files taken two by two as line-aligned pairs, in the order given."""
    sets: list[BitextSet] = []
    plain: list[Path] = []
    for p in paths:
        if p.is_dir():
            tsvs = sorted(p.glob("*.tsv"))
            if not tsvs:
                raise InputError(f"no *.tsv file in {p}", fix="point at TSV files of aligned pairs")
            sets += [read_tsv(t) for t in tsvs]
        elif not p.is_file():
            raise InputError(f"no such file or folder: {p}", fix="check the path")
        elif p.suffix.lower() == ".tsv":
            sets.append(read_tsv(p))
        else:
            plain.append(p)
    if len(plain) % 2:
        raise InputError(
            f"{len(plain)} plain-text files given; line-aligned files come in pairs "
            f"({', '.join(map(str, plain))})",
            fix="give both files of each pair (source then target), or use TSV files",
        )
    sets += [read_aligned(plain[i], plain[i + 1]) for i in range(0, len(plain), 2)]
    if not sets:
        raise InputError("no bitext data given", fix="name a folder or TSV files")
    return sets


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not valid UTF-8 (byte {exc.start})", fix="convert the file to UTF-8"
        ) from exc
    return text.splitlines()


def read_tsv(path: Path) -> BitextSet:
    """One pair per line, ``source<TAB>target``; any other shape names the line."""
    src: list[str] = []
    tgt: list[str] = []
    for n, line in enumerate(_lines(path), start=1):
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(
                f"{path}:{n}: expected 'sentence<TAB>translation', got {len(parts)} field(s)"
                + ("" if len(parts) != 2 else " with an empty side"),
                fix="one aligned pair per line, the two sides separated by one tab",
            )
        src.append(parts[0].strip())
        tgt.append(parts[1].strip())
    if not src:
        raise InputError(f"{path} holds no pairs", fix="give a file with aligned pairs")
    src_lang, tgt_lang = _langs_from_stem(path.stem)
    return BitextSet(path.stem, src_lang, tgt_lang, src, tgt, str(path))


def read_aligned(src_path: Path, tgt_path: Path) -> BitextSet:
    """Two files, line i of one the translation of line i of the other."""
    src, tgt = _lines(src_path), _lines(tgt_path)
    if len(src) != len(tgt):
        raise InputError(
            f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}",
            fix="line-aligned files must have the same number of lines",
        )
    for n, (a, b) in enumerate(zip(src, tgt, strict=True), start=1):
        if not a.strip() or not b.strip():
            raise InputError(
                f"line {n} is empty in {src_path if not a.strip() else tgt_path}",
                fix="remove the empty pair from both files",
            )
    if not src:
        raise InputError(f"{src_path} is empty", fix="give files with aligned lines")
    src_lang, tgt_lang = _lang_of(src_path), _lang_of(tgt_path)
    name = f"{src_lang}-{tgt_lang}"
    return BitextSet(
        name,
        src_lang,
        tgt_lang,
        [s.strip() for s in src],
        [t.strip() for t in tgt],
        f"{src_path} + {tgt_path}",
    )


def _langs_from_stem(stem: str) -> tuple[str, str]:
    m = re.fullmatch(r"([A-Za-z_]{2,8})[-_.]([A-Za-z_]{2,8})", stem)
    return (m.group(1).lower(), m.group(2).lower()) if m else (stem, "tgt")


def _lang_of(path: Path) -> str:
    suffix = path.suffix.lstrip(".").lower()
    return suffix if re.fullmatch(r"[a-z]{2,3}", suffix) else path.stem


# --- references ------------------------------------------------------------
def find_reference(paths: Sequence[Path]) -> Path | None:
    """The ``reference.json`` beside the data (in a named folder or a file's folder)."""
    for p in paths:
        folder = p if p.is_dir() else p.parent
        if (folder / REFERENCE_FILE).is_file():
            return folder / REFERENCE_FILE
    return None


def _norm(name: str) -> str:
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    return n.replace("multilinguale5", "me5").replace("paraphrasemultilingual", "param")


def match_reference_model(models: Sequence[str], bundle_name: str) -> str | None:
    """The published model that the bundle is (by normalised name), or None."""
    want = _norm(bundle_name)
    for m in models:
        if _norm(m) == want:
            return m
    return None


def read_reference(path: Path, model: str) -> dict[str, float]:
    """Per-language published figures of ``model`` from a reference.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    models = data.get("models", {})
    if model not in models:
        raise InputError(
            f"model {model!r} is not in {path}",
            fix=f"choose one of: {', '.join(models)}",
        )
    return {k: float(v) for k, v in models[model]["per_language"].items()}


def reference_models(path: Path) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8")).get("models", {}))


# --- evaluation ------------------------------------------------------------
def bitext_accuracy(src_vecs: np.ndarray, tgt_vecs: np.ndarray) -> tuple[float, float]:
    """accuracy@1 (fractions) src->tgt and tgt->src of aligned unit vectors."""
    sims = src_vecs @ tgt_vecs.T
    return accuracy_at_1(sims), accuracy_at_1(sims.T)


def evaluate_bitext(
    sets: Sequence[BitextSet],
    encoder: Encoder,
    *,
    kind: Kind = "query",
    reference: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[PairResult]:
    """Encode both sides of every set and measure accuracy@1 both ways (percent).

    ``progress(n)`` is called with the number of sentences each encoder batch finished.
    ``reference`` maps a source language to its published src->tgt figure.
    """
    results: list[PairResult] = []
    for s in sets:
        src, src_stats = encoder.encode_with_stats(s.src, kind, progress=progress)
        tgt, tgt_stats = encoder.encode_with_stats(s.tgt, kind, progress=progress)
        truncated = src_stats.truncated + tgt_stats.truncated
        s2t, t2s = bitext_accuracy(src, tgt)
        ref = reference.get(s.src_lang) if reference else None
        results.append(
            PairResult(
                s.name,
                s.src_lang,
                s.tgt_lang,
                len(s.src),
                round(100 * s2t, 2),
                round(100 * t2s, 2),
                truncated,
                ref,
            )
        )
    return results
