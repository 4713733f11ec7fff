"""Move a collection between stores without re-encoding (scroll + upsert).

File format (``.jsonl.gz``, UTF-8, one JSON object per line):

    {"format": "xsearch-export/1", "collection": NAME, "meta": {...collection metadata}}
    {"id": UUID, "vectors": {"dense": B64}, "sparse": {"lexical": [[i...], [v...]]},
     "payload": {...}}                                  (one line per point)
    {"end": true, "points": N}

Dense vectors are base64 of little-endian float32 bytes: exact, and about a
third of the size of decimal text. The trailer line makes a cut-off file
detectable; an export is written to ``PATH.tmp`` and renamed when complete.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from xsearch.errors import InputError, StoreError
from xsearch.store.base import (
    CollectionSpec,
    PointRecord,
    ScoredPoint,
    Store,
    validate_name,
)

FORMAT = "xsearch-export/1"


def encode_point(p: ScoredPoint) -> dict[str, Any]:
    vectors = {
        n: base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")
        for n, v in (p.vectors or {}).items()
    }
    sparse = {n: [list(map(int, i)), list(map(float, v))] for n, (i, v) in (p.sparse or {}).items()}
    return {"id": p.id, "vectors": vectors, "sparse": sparse, "payload": p.payload}


def decode_point(d: dict[str, Any]) -> PointRecord:
    vectors = {
        n: np.frombuffer(base64.b64decode(b), dtype="<f4").astype(np.float32)
        for n, b in d.get("vectors", {}).items()
    }
    sparse = {n: (list(iv[0]), list(iv[1])) for n, iv in d.get("sparse", {}).items()}
    return PointRecord(id=d["id"], vectors=vectors, payload=d.get("payload") or {}, sparse=sparse)


def export_collection(store: Store, name: str, path: Path, *, batch: int = 512) -> int:
    """Write collection ``name`` to ``path`` (.jsonl.gz); returns the number of points."""
    meta = store.get_meta(name)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": FORMAT, "collection": name, "meta": meta}) + "\n")
        for p in store.scroll(name, batch=batch, with_vectors=True):
            fh.write(json.dumps(encode_point(p), ensure_ascii=False) + "\n")
            n += 1
        fh.write(json.dumps({"end": True, "points": n}) + "\n")
    os.replace(tmp, path)
    return n


def read_export(path: Path) -> tuple[dict[str, Any], Iterator[PointRecord]]:
    """(header, points) of an export file; the iterator checks the trailer at the end."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"export file {path} does not exist", fix="check the path")
    fh = gzip.open(path, "rt", encoding="utf-8")
    try:
        header = json.loads(fh.readline() or "{}")
    except (OSError, ValueError) as err:
        fh.close()
        raise InputError(f"{path} is not an xsearch export: {err}", fix=_EXPORT_FIX) from err
    if header.get("format") != FORMAT or "fingerprint" not in header.get("meta", {}):
        fh.close()
        raise InputError(f"{path} is not an xsearch export ({FORMAT})", fix=_EXPORT_FIX)
    return header, _points(fh, path)


_EXPORT_FIX = "give a file written by `xsearch export-collection`"


def _points(fh: Any, path: Path) -> Iterator[PointRecord]:
    n = 0
    with fh:
        try:
            for line in fh:
                d = json.loads(line)
                if d.get("end"):
                    if d.get("points") != n:
                        break
                    return
                yield decode_point(d)
                n += 1
        except (OSError, EOFError, ValueError) as err:
            raise StoreError(f"{path} is damaged after {n} points: {err}", fix=_CUT_FIX) from err
    raise StoreError(f"{path} is incomplete (cut off after {n} points)", fix=_CUT_FIX)


_CUT_FIX = "export the collection again; nothing was kept from the incomplete import"


def import_collection(
    store: Store, path: Path, *, name: str | None = None, replace: bool = False, batch: int = 512
) -> int:
    """Load an export file into ``store`` as collection ``name`` (default: its own name)."""
    header, points = read_export(path)
    return _load(store, name or header["collection"], header["meta"], points, replace, batch)


def copy_collection(
    src: Store,
    dst: Store,
    name: str,
    *,
    new_name: str | None = None,
    replace: bool = False,
    batch: int = 512,
) -> int:
    """Copy a collection from one store to another directly (no file)."""
    meta = src.get_meta(name)
    points = (
        PointRecord(id=p.id, vectors=p.vectors or {}, payload=p.payload, sparse=p.sparse or {})
        for p in src.scroll(name, batch=batch, with_vectors=True)
    )
    return _load(dst, new_name or name, meta, points, replace, batch)


def _load(
    store: Store,
    name: str,
    meta: dict[str, Any],
    points: Iterable[PointRecord],
    replace: bool,
    batch: int,
) -> int:
    validate_name(name)
    if name in store.list_collections():
        if not replace:
            raise InputError(
                f"collection {name!r} already exists in the target {store.kind} store",
                fix="import under another name, or replace it (--replace)",
            )
        store.delete_collection(name)
    spec = CollectionSpec(
        name=name,
        dimension=int(meta["dimension"]),
        fingerprint=meta["fingerprint"],
        bundle=meta.get("bundle", "?"),
        distance=meta.get("distance", "cosine"),
    )
    store.create_collection(spec)
    n = 0
    try:
        store.set_meta(name, dict(meta))  # carries per-language means etc. along
        buf: list[PointRecord] = []
        for p in points:
            buf.append(p)
            if len(buf) >= batch:
                store.upsert(name, buf)
                n += len(buf)
                buf = []
        store.upsert(name, buf)
        n += len(buf)
    except BaseException:
        # A half-imported collection would look complete: remove it.
        store.delete_collection(name)
        raise
    return n
