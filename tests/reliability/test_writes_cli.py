"""Issue 12 #7 and #8 through the CLI and the API, and `xsearch check` itself:
deletes keep the language statistics right; a damaged collection.json is an error
that names the file; the checker finds orphans and its repair makes them whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.indexer.conftest import write_jsonl
from tests.indexer.test_cli import make_home, xsearch
from tests.reliability.conftest import assert_error
from xsearch.documents import point_id
from xsearch.settings import Settings

FR = "Le musée présente une collection de peintures anciennes. Les enfants jouent dans le parc."
EN = "The river floods the valley every spring. Scientists measured the lake at dawn."


def _corpus(tmp_path: Path) -> Path:
    docs = [{"id": f"fr{i}", "text": FR, "lang": "fr"} for i in range(3)]
    docs += [{"id": f"en{i}", "text": EN * (1 + 20 * (i == 0)), "lang": "en"} for i in range(3)]
    return write_jsonl(tmp_path / "docs.jsonl", docs)


def _check(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = xsearch(["check", "-c", "c", "--json", *args], home)
    return out.returncode, json.loads(out.stdout)


def test_cli_delete_keeps_the_language_statistics(tmp_path: Path, tiny_bundle: Path) -> None:
    home = make_home(tmp_path, tiny_bundle)
    assert xsearch(["index", str(_corpus(tmp_path)), "-c", "c", "--quiet"], home).returncode == 0
    code, report = _check(home)
    assert code == 0 and report["stats_languages"]["fr"] == 3, report
    out = xsearch(["delete", "fr0", "fr1", "fr2", "-c", "c"], home)
    assert out.returncode == 0, out.stderr
    code, report = _check(home)
    # before issue 12 the statistics still counted the deleted French passages
    assert code == 0, report
    assert "fr" not in report["stats_languages"] and "fr" not in report["languages"]


def test_check_finds_orphans_and_repair_makes_the_collection_whole(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    from xsearch.store import open_store

    home = make_home(tmp_path, tiny_bundle)
    assert xsearch(["index", str(_corpus(tmp_path)), "-c", "c", "--quiet"], home).returncode == 0
    assert _check(home)[0] == 0
    with open_store(Settings(home=home, _env_file=None)) as store:  # type: ignore[call-arg]
        n = store.document_state("c", ["en0"])["en0"][1]
        assert n > 1
        store.delete_points("c", [point_id("en0", 0)])  # as a write cut short would leave
    out = xsearch(["check", "-c", "c"], home)
    assert out.returncode == 1
    assert "orphan_passages" in out.stderr and "en0" in out.stderr and "--repair" in out.stderr
    code, report = _check(home)
    assert code == 1 and report["findings"][0]["points"] == n - 1
    kinds = {f["kind"] for f in report["findings"]}
    assert kinds == {"orphan_passages", "language_stats"}, report  # en counted n, holds n-1
    code, report = _check(home, "--repair")
    assert code == 0, report
    assert report["repaired"]["findings"] and report["documents"] == 5
    assert _check(home)[0] == 0


def test_damaged_collection_json_is_a_clear_error_in_the_cli(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    home = make_home(tmp_path, tiny_bundle)
    assert xsearch(["index", str(_corpus(tmp_path)), "-c", "c", "--quiet"], home).returncode == 0
    meta = home / "store" / "c" / "collection.json"
    meta.write_text(meta.read_text()[:40], encoding="utf-8")  # truncated
    out = xsearch(["stats", "-c", "c"], home)  # (no traceback: checked by xsearch())
    assert out.returncode == 1
    assert str(meta) in out.stderr and "damaged" in out.stderr and "re-index" in out.stderr


def test_damaged_collection_json_is_a_503_naming_the_file(
    make_client: Any, tmp_path: Path
) -> None:
    client = make_client(started=False)
    home: Path = client.app.state.xsearch.settings.home
    (home / "store" / "bad").mkdir(parents=True)
    (home / "store" / "bad" / "collection.json").write_text('{"format": "xsearch-col', "utf-8")
    with client:
        r = client.get("/collections/bad")
        assert_error(r, 503, "store_error", "collection.json", "damaged")
        r = client.post("/search", json={"query": "river", "collection": "bad"})
        assert r.status_code == 503, r.text
        assert client.get("/collections").status_code == 200


def test_cli_delete_needs_no_model_bundle(tmp_path: Path, tiny_bundle: Path) -> None:
    """Deletes need the store and the statistics only: with the default bundle gone
    `xsearch delete` still works and leaves the statistics right."""
    home = make_home(tmp_path, tiny_bundle)
    assert xsearch(["index", str(_corpus(tmp_path)), "-c", "c", "--quiet"], home).returncode == 0
    (home / "models" / "tiny").unlink()  # XSEARCH_DEFAULT_BUNDLE=tiny now names nothing
    assert xsearch(["search", "river", "-c", "c"], home).returncode != 0  # needs the model
    out = xsearch(["delete", "fr0", "en0", "-c", "c", "--json"], home)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["deleted_passages"] >= 2
    code, report = _check(home)
    assert code == 0, report
    assert report["documents"] == 4 and report["stats_languages"]["fr"] == 2, report
