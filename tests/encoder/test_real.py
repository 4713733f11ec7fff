"""The encoder on the real default bundle (slow): int8 close to fp32, and
`xsearch encode` vectors as good as direct encoding on Tatoeba."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xsearch.cli.main import app
from xsearch.encoder import Encoder
from xsearch.settings import Settings

pytestmark = pytest.mark.slow

TATOEBA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tatoeba"
LANGS = ("fra", "ara")  # a Latin-script and an Arabic-script language


def _pairs(lang: str) -> tuple[list[str], list[str]]:
    path = TATOEBA / f"{lang}-eng.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found (../shared/data is optional)")
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    return [r[0] for r in rows], [r[1] for r in rows]


def _acc(src: np.ndarray, tgt: np.ndarray) -> float:
    return float(100 * np.mean(np.argmax(src @ tgt.T, axis=1) == np.arange(len(src))))


@pytest.fixture(scope="module")
def int8(real_bundle: Path, real_settings: Settings) -> Encoder:
    return Encoder.load(real_bundle, settings=real_settings)


def test_auto_loads_int8_with_the_manifest_dimension(int8: Encoder) -> None:
    assert int8.variant == "int8" and int8.dimension == 384 and int8.max_seq_length == 512


def test_int8_stays_close_to_fp32(
    int8: Encoder, real_bundle: Path, real_settings: Settings
) -> None:
    fp32 = Encoder.load(real_bundle, settings=real_settings, variant="fp32")
    texts: list[str] = []
    for lang in ("deu", "cmn", "hin", "rus"):
        src, tgt = _pairs(lang)
        texts += src[:50] + tgt[:50]
    cos = np.sum(int8.encode(texts, "query") * fp32.encode(texts, "query"), axis=1)
    assert cos.mean() > 0.99, cos.mean()
    assert cos.min() > 0.95, cos.min()


def test_long_passage_is_truncated_and_reported(int8: Encoder) -> None:
    long = "Die Bundesregierung hat am Mittwoch neue Regeln beschlossen. " * 80
    assert int8.count_tokens(long) > 512
    _, stats = int8.encode_with_stats([long, "kurz"])
    assert stats.truncated == 1 and stats.tokens == 512 + int8.count_tokens("kurz")


def test_cli_vectors_give_the_same_tatoeba_accuracy(
    int8: Encoder, real_bundle: Path, tmp_path: Path
) -> None:
    for lang in LANGS:
        src, tgt = _pairs(lang)
        texts = src + tgt
        infile = tmp_path / f"{lang}.txt"
        infile.write_text("\n".join(texts) + "\n", encoding="utf-8")
        out = tmp_path / f"{lang}.npy"
        result = CliRunner().invoke(
            app, ["encode", str(infile), "-o", str(out), "--bundle", str(real_bundle),
                  "--kind", "query"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        from_cli = np.load(out)
        direct = int8.encode(texts, "query")
        n = len(src)
        cli_acc, direct_acc = _acc(from_cli[:n], from_cli[n:]), _acc(direct[:n], direct[n:])
        assert cli_acc == direct_acc
        np.testing.assert_allclose(from_cli, direct, atol=1e-6)
        # Published mE5-small: fra 93.0, ara 80.7; the 4-bit rebuild in int8 loses a little.
        assert cli_acc > {"fra": 88.0, "ara": 72.0}[lang], (lang, cli_acc)
