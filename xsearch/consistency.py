"""Does a collection agree with itself? Documents, points and language statistics.

A document is stored as passages 0..n-1 (one point each, ids from
``point_id``); passage 0 carries ``n_passages`` and ``content_hash`` and is
what makes the document exist (``GET /documents/{id}``, ``plan``). The
language statistics (``language_means`` in the collection metadata) count the
points of each language. :func:`check_collection` reads every point once and
lists where these disagree:

- ``orphan_passages``: points of a document that has no passage 0 (search
  finds them, GET says 404);
- ``missing_passages``: a passage 0 whose document lacks some of 0..n-1;
- ``extra_passages``: passages numbered n or more (left over from a longer version);
- ``mixed_versions``: passages of one document with different content hashes;
- ``language_stats``: the statistics' count of a language differs from its points,
  or a process died holding newer statistics in memory (``stats_pending``).

Used by ``xsearch check -c NAME`` and by the fault tests after every fault.
:func:`repair_collection` deletes what cannot be whole (orphans, incomplete or
mixed documents: re-index them) and recomputes the statistics from the points.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xsearch.ranking.centering import LanguageMeans
from xsearch.store.base import stats_pending

if TYPE_CHECKING:
    from xsearch.store.base import Store

# How many document ids a finding lists before it says "and N more".
_SHOW = 20


@dataclass
class Finding:
    kind: str
    detail: str
    doc_ids: list[str] = field(default_factory=list)
    points: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "doc_ids": self.doc_ids[:_SHOW],
            "n_doc_ids": len(self.doc_ids),
            "points": self.points,
        }


@dataclass
class CheckReport:
    collection: str
    points: int = 0
    documents: int = 0  # documents with a passage 0
    languages: dict[str, int] = field(default_factory=dict)  # points per language
    stats_languages: dict[str, int] = field(default_factory=dict)  # the statistics' counts
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "ok": self.ok,
            "points": self.points,
            "documents": self.documents,
            "languages": self.languages,
            "stats_languages": self.stats_languages,
            "findings": [f.to_json() for f in self.findings],
        }

    def bad_documents(self) -> list[str]:
        """Ids of documents that are not whole (every kind but language_stats)."""
        out: dict[str, None] = {}
        for f in self.findings:
            if f.kind != "language_stats":
                out.update(dict.fromkeys(f.doc_ids))
        return list(out)


def check_collection(store: Store, collection: str) -> CheckReport:
    """Read every point of ``collection`` (payloads only) and compare; see the module doc."""
    report = CheckReport(collection)
    # doc_id -> passage number -> (n_passages, content_hash)
    docs: dict[str, dict[int, tuple[int, str]]] = defaultdict(dict)
    langs: Counter[str] = Counter()
    for p in store.scroll(collection, with_vectors=False):
        pl = p.payload
        report.points += 1
        langs[str(pl.get("lang") or "und")] += 1
        docs[str(pl.get("doc_id"))][int(pl.get("passage", -1))] = (
            int(pl.get("n_passages", 0)),
            str(pl.get("content_hash", "")),
        )
    report.languages = dict(sorted(langs.items()))
    kinds: dict[str, tuple[list[str], list[int]]] = defaultdict(lambda: ([], [0]))

    def note(kind: str, doc_id: str, points: int) -> None:
        ids, n = kinds[kind]
        ids.append(doc_id)
        n[0] += points

    for doc_id, passages in docs.items():
        if 0 not in passages:
            note("orphan_passages", doc_id, len(passages))
            continue
        report.documents += 1
        n, head_hash = passages[0]
        if any(i not in passages for i in range(n)):
            note("missing_passages", doc_id, sum(i not in passages for i in range(n)))
        extra = [i for i in passages if not 0 <= i < n]
        if extra:
            note("extra_passages", doc_id, len(extra))
        if any(h != head_hash for _n, h in passages.values()):
            note("mixed_versions", doc_id, len(passages))
    what = {
        "orphan_passages": "points of documents without passage 0 (found by search, "
        "unknown to GET)",
        "missing_passages": "documents missing some of their passages",
        "extra_passages": "passages beyond the document's n_passages",
        "mixed_versions": "documents whose passages come from different versions",
    }
    for kind, (ids, n) in kinds.items():
        report.findings.append(Finding(kind, f"{len(ids)} {what[kind]}", sorted(ids), n[0]))
    meta = store.get_meta(collection)
    report.stats_languages = LanguageMeans.counts_from_meta(meta)
    if stats_pending(meta):
        report.findings.append(
            Finding(
                "language_stats",
                "the language statistics were held in memory by a process that stopped "
                "before saving them: they may lag the points (the next write, the API "
                "server's start or `--repair` recomputes them)",
            )
        )
    for lang in sorted(set(langs) | set(report.stats_languages)):
        have, counted = langs.get(lang, 0), report.stats_languages.get(lang, 0)
        if have != counted:
            report.findings.append(
                Finding(
                    "language_stats",
                    f"language {lang!r}: the statistics count {counted} passages, "
                    f"the collection holds {have}",
                    points=abs(have - counted),
                )
            )
    return report


def repair_collection(store: Store, collection: str, dimension: int) -> CheckReport:
    """Delete documents that are not whole, recompute the statistics; the report after.

    Deleted documents must be indexed again (their ids are in the report before
    the repair); nothing whole is touched.
    """
    from xsearch.ranking.maintain import RankingData

    before = check_collection(store, collection)
    bad = before.bad_documents()
    for lo in range(0, len(bad), 256):
        store.delete_documents(collection, bad[lo : lo + 256])
    if not before.ok:
        RankingData(store, dimension).recompute(collection)
    return check_collection(store, collection)
