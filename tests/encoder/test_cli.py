"""`xsearch encode` end to end: files in, .npy / JSONL out, errors by line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xsearch.cli.main import app
from xsearch.encoder import Encoder
from xsearch.settings import Settings

REPO = Path(__file__).resolve().parents[2]
TEXTS = ["Hello world", "", "Bonjour le monde", "東京は日本の首都です。", "Привет"]


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "texts.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def direct(tiny_bundle: Path) -> np.ndarray:
    # Same batch as the CLI encodes (int8 quantises per batch).
    return Encoder.load(tiny_bundle, settings=Settings(home=tiny_bundle.parent)).encode(
        TEXTS, "query"
    )


def _invoke(*args: str) -> object:
    result = CliRunner().invoke(app, ["encode", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_encode_writes_npy_in_input_order(
    tiny_bundle: Path, texts_file: Path, direct: np.ndarray, tmp_path: Path
) -> None:
    out = tmp_path / "v.npy"
    result = _invoke(str(texts_file), "-o", str(out), "--bundle", str(tiny_bundle), "-k", "query")
    assert result.exit_code == 0, result.output
    vectors = np.load(out)
    assert vectors.dtype == np.float32 and vectors.shape == direct.shape
    np.testing.assert_allclose(vectors, direct, atol=1e-6)
    assert "encoded 5 texts (0 truncated" in result.output
    assert not list(tmp_path.glob("*.partial"))


def test_encode_jsonl_in_and_out(tiny_bundle: Path, direct: np.ndarray, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS))
    )
    out = tmp_path / "v.jsonl"
    result = _invoke(str(src), "-o", str(out), "--bundle", str(tiny_bundle), "--kind", "query")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"d{i}" for i in range(len(TEXTS))]
    assert [r["index"] for r in rows] == list(range(len(TEXTS)))
    np.testing.assert_array_equal(np.array([r["vector"] for r in rows], np.float32), direct)


def test_stdin_to_stdout_jsonl(tiny_bundle: Path) -> None:
    result = CliRunner().invoke(
        app, ["encode", "-", "-o", "-", "--bundle", str(tiny_bundle)], input="a\nb\n"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert len(rows) == 2 and len(rows[0]["vector"]) > 0


def test_bad_jsonl_line_is_named_with_its_number(tiny_bundle: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"text": "fine"}\n{"text": "also fine"}\n{"text": oops}\n')
    out = tmp_path / "v.npy"
    # Through the real entry point: the one-line error and exit code users see.
    proc = subprocess.run(
        [sys.executable, "-m", "xsearch.cli.main", "encode", str(src), "-o", str(out),
         "--bundle", str(tiny_bundle)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"{src}:3: not valid JSON" in proc.stderr
    assert '"text"' in proc.stderr  # the fix: what a line must look like
    assert not out.exists()


def test_missing_text_field_is_named(tiny_bundle: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"text": "fine"}\n{"body": "no text"}\n')
    result = CliRunner().invoke(
        app, ["encode", str(src), "-o", str(tmp_path / "v.npy"), "--bundle", str(tiny_bundle)]
    )
    assert f"{src}:2" in str(result.exception)


def test_missing_bundle_error_names_the_build_command(tmp_path: Path) -> None:
    src = tmp_path / "t.txt"
    src.write_text("hello\n")
    proc = subprocess.run(
        [sys.executable, "-m", "xsearch.cli.main", "encode", str(src), "-o",
         str(tmp_path / "v.npy")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "XSEARCH_HOME": str(tmp_path / "empty")},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "no model bundle" in proc.stderr and "xsearch model build" in proc.stderr
