"""Bundle manifest: checksums, fingerprint, reading, verifying and listing bundles.

The manifest format is described in the bundle contract (format 1). Only the
standard library and xsearch modules are imported here, so the runtime encoder
can use it without torch.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xsearch import __version__
from xsearch.errors import BundleCorrupt, BundleNotFound
from xsearch.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
# Keys left out of the fingerprint: when it was built, and the fingerprint itself.
_UNFINGERPRINTED = ("created", "fingerprint")
_REBUILD = "rebuild it with `xsearch model build --force`"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(manifest: dict[str, Any]) -> str:
    """sha256 (first 16 hex digits) of the canonical JSON of the manifest minus volatile keys."""
    body = {k: v for k, v in manifest.items() if k not in _UNFINGERPRINTED}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# Kept beside tokenizer.json by xsearch.ranking.lexical (the stop words read from
# it): a cache, not a bundle file, so never in a manifest's list.
STOP_WORDS_CACHE = ".stop-words.json"


def bundle_files(bundle_dir: Path) -> dict[str, str]:
    """sha256 of every file of the bundle except the manifest and caches (sorted by name)."""
    files = sorted(
        p for p in bundle_dir.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, STOP_WORDS_CACHE)
    )  # fmt: skip
    return {p.relative_to(bundle_dir).as_posix(): sha256_file(p) for p in files}


def finish_manifest(bundle_dir: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Add files, format, version, created and fingerprint; write manifest.json."""
    manifest: dict[str, Any] = {"format": FORMAT, **fields}
    manifest["files"] = bundle_files(bundle_dir)
    manifest["xsearch_version"] = __version__
    manifest["created"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest["fingerprint"] = fingerprint(manifest)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (bundle_dir / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    """The parsed manifest.json of a bundle folder (BundleNotFound / BundleCorrupt)."""
    path = Path(bundle_dir) / MANIFEST
    if not path.is_file():
        raise BundleNotFound(f"no model bundle at {bundle_dir}", fix="run `xsearch model build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleCorrupt(f"{path} is not valid JSON ({exc})", fix=_REBUILD) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleCorrupt(
            f"{path} has format {manifest.get('format') if isinstance(manifest, dict) else '?'},"
            f" this xsearch reads format {FORMAT}",
            fix=_REBUILD,
        )
    return manifest


def verify_bundle(bundle_dir: Path) -> None:
    """Raise BundleCorrupt unless every file matches its sha256 and the fingerprint holds."""
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    for name, expected in manifest.get("files", {}).items():
        path = bundle_dir / name
        if not path.is_file():
            raise BundleCorrupt(f"bundle {bundle_dir} lacks {name}", fix=_REBUILD)
        if sha256_file(path) != expected:
            raise BundleCorrupt(
                f"{path} does not match the sha256 in its manifest (changed or damaged)",
                fix=_REBUILD,
            )
    check_fingerprint(bundle_dir, manifest)


def check_fingerprint(bundle_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse a manifest edited after the build. Collections are tied to a bundle by
    its fingerprint; a manifest whose prompts (say) were changed by hand would keep
    the old fingerprint, and search such collections with vectors of another kind."""
    if fingerprint(manifest) != manifest.get("fingerprint"):
        raise BundleCorrupt(
            f"{Path(bundle_dir) / MANIFEST} was edited after the bundle was built (its "
            f"content no longer gives its fingerprint {manifest.get('fingerprint')})",
            fix=_REBUILD,
        )


def list_bundles(settings: Settings) -> list[dict[str, Any]]:
    """One summary per folder under settings.models_dir that holds a manifest, sorted by name.

    Unreadable manifests are listed with an "error" entry instead of being skipped.
    """
    root = settings.models_dir
    if not root.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and ".tmp-" not in p.name):
        if not (folder / MANIFEST).exists():
            continue
        try:
            m = read_manifest(folder)
        except BundleCorrupt as err:
            out.append({"name": folder.name, "path": str(folder), "error": str(err)})
            continue
        size = sum((folder / f).stat().st_size for f in m.get("files", {}) if (folder / f).exists())
        out.append(
            {
                "name": folder.name,
                "path": str(folder),
                "source": m.get("source"),
                "dimension": m.get("dimension"),
                "max_seq_length": m.get("max_seq_length"),
                "variants": sorted(m.get("variants", {})),
                "fingerprint": m.get("fingerprint"),
                "created": m.get("created"),
                "size_bytes": size,
                "default": folder.name == settings.default_bundle,
            }
        )
    return out
