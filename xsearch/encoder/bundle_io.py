"""Find a model bundle, read its manifest and check its files' checksums.

The runtime keeps its own small reader (no import of ``xsearch.bundle``, whose
export code pulls in torch): loading must work on a serving install that has
only onnxruntime and tokenizers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from xsearch.bundle.manifest import sha256_file
from xsearch.errors import BundleCorrupt, BundleNotFound
from xsearch.settings import Settings

REBUILD_FIX = "rebuild it with `xsearch model build --force`"
_REQUIRED_KEYS = ("name", "dimension", "max_seq_length", "variants", "files", "fingerprint")

# Files already hashed in this process, keyed by (path, size, mtime_ns): loading
# the same bundle twice (tests, the API reloading) should not rehash 100+ MB.
_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def resolve_bundle_dir(name_or_path: str | Path | None, settings: Settings) -> Path:
    """A bundle name (under ``settings.models_dir``) or a path to a bundle folder."""
    if name_or_path is None:
        return settings.bundle_dir()
    if isinstance(name_or_path, Path):
        return name_or_path.expanduser()
    # A bare name ("multilingual-e5-small") means a bundle under the models dir;
    # a string with a path separator (or ".", "~") is a folder path.
    if len(Path(name_or_path).parts) > 1 or name_or_path.startswith((".", "~")):
        return Path(name_or_path).expanduser()
    return settings.bundle_dir(name_or_path)


def load_manifest(bundle_dir: Path) -> dict[str, Any]:
    """Read ``manifest.json``; BundleNotFound when there is no bundle there."""
    manifest_path = bundle_dir / "manifest.json"
    if not manifest_path.is_file():
        raise BundleNotFound(
            f"no model bundle at {bundle_dir}",
            fix="run `xsearch model build` (or name an existing bundle: `xsearch model list`)",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleCorrupt(
            f"unreadable manifest {manifest_path} ({exc})", fix=REBUILD_FIX
        ) from exc
    missing = (
        [k for k in _REQUIRED_KEYS if k not in manifest] if isinstance(manifest, dict) else ["*"]
    )
    if missing:
        raise BundleCorrupt(f"manifest {manifest_path} lacks {', '.join(missing)}", fix=REBUILD_FIX)
    return manifest


def verify_files(bundle_dir: Path, manifest: dict[str, Any], names: list[str]) -> None:
    """Check that each named file exists and matches the manifest's sha256."""
    expected: dict[str, str] = manifest["files"]
    for name in names:
        path = bundle_dir / name
        if name not in expected:
            raise BundleCorrupt(
                f"{path} is not listed in the bundle manifest's checksums", fix=REBUILD_FIX
            )
        if not path.is_file():
            raise BundleCorrupt(f"bundle file {path} is missing", fix=REBUILD_FIX)
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with _verified_lock:
            known = _verified.get(key)
        actual = known or sha256_file(path)
        if actual != expected[name]:
            raise BundleCorrupt(
                f"bundle file {path} does not match its manifest checksum "
                f"(sha256 {actual[:12]}…, expected {expected[name][:12]}…)",
                fix=REBUILD_FIX,
            )
        with _verified_lock:
            _verified[key] = actual
