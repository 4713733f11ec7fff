"""The search page in headless Chromium against a real server and the real bundle.

Type a Spanish query, see hits in other languages with their badges; filter by a
language chip; set the ranking options (balance, hybrid, grouped translations)
and see them sent, echoed and kept in the URL; screenshots go to artifacts/
(gitignored) as test artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.corpus import TOPICS, documents
from tests.api.server import REPO, home_with_bundle, running_server, serve_env

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def live_url(real_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = home_with_bundle(tmp_path_factory.mktemp("browser") / "home", real_bundle)
    with running_server(serve_env(home, real_bundle.name), timeout_s=180) as (url, _proc):
        r = httpx.post(f"{url}/collections/news/documents", json={"documents": documents()},
                       timeout=120)
        assert r.status_code == 200, r.text
        yield url


@pytest.fixture(scope="module")
def page(live_url: str) -> Iterator:  # noqa: ANN201
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300}, locale="es-ES")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_url + "/")
            yield page
            assert not errors, errors
        finally:
            browser.close()


def test_query_in_spanish_finds_other_languages(page) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_selector("#collection option[value='news']", state="attached")
    page.fill("#q", "¿A qué hora sale el próximo tren al aeropuerto?")
    page.press("#q", "Enter")
    page.wait_for_selector("#results li.hit")
    assert page.inner_text("#query-lang") == "es"
    hits = page.query_selector_all("#results li.hit")
    assert len(hits) == 10
    top = hits[:5]
    assert all(h.get_attribute("data-doc").startswith("train/") for h in top[:3])
    langs = {h.query_selector(".badge.lang").inner_text().lower() for h in top}
    assert len(langs) >= 4, langs  # one Spanish query, hits in many languages
    assert all(h.query_selector(".badge.cross") is not None for h in hits)  # none in Spanish
    snippet = top[0].query_selector(".snippet")
    assert snippet.get_attribute("dir") == "auto"
    assert "ms on the server" in page.inner_text("#status")
    page.screenshot(path=str(ARTIFACTS / "search_page.png"), full_page=True)


def test_query_terms_are_highlighted_as_whole_words(page) -> None:  # noqa: ANN001
    page.fill("#q", "train to the airport")
    page.press("#q", "Enter")
    page.wait_for_selector("#results li.hit[data-doc='train/en'] .snippet mark")
    marks = page.eval_on_selector_all("#results .snippet mark", "ms => ms.map(m => m.textContent)")
    assert {m.lower() for m in marks} >= {"train", "airport"}
    assert {m.lower() for m in marks} <= {"train", "airport"}, marks  # not "to", "the"


def test_language_chip_filters_results(page) -> None:  # noqa: ANN001
    page.wait_for_selector("#lang-chips .chip[data-lang='ar']")
    chips = {c.get_attribute("data-lang") for c in page.query_selector_all("#lang-chips .chip")}
    assert chips == set(next(iter(TOPICS.values())))
    page.fill("#q", "¿A qué hora sale el próximo tren al aeropuerto?")
    page.press("#q", "Enter")
    page.wait_for_selector("#results li.hit")
    page.click("#lang-chips .chip[data-lang='ar']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results li.hit')]"
        ".every(li => li.dataset.lang === 'ar')"
    )
    hits = page.query_selector_all("#results li.hit")
    assert [h.get_attribute("data-doc") for h in hits][0] == "train/ar"
    assert page.get_attribute("#lang-chips .chip[data-lang='ar']", "aria-pressed") == "true"
    # Arabic text is laid out right-to-left by the browser (dir="auto")
    direction = page.eval_on_selector("#results li.hit .snippet",
                                      "el => getComputedStyle(el).direction")
    assert direction == "rtl"
    assert not page.is_visible("#pager")  # a single short page: no paging buttons
    page.screenshot(path=str(ARTIFACTS / "search_page_arabic.png"), full_page=True)


def _search_params(request) -> dict[str, list[str]]:  # noqa: ANN001
    return parse_qs(urlsplit(request.url).query)


def _is_search(request) -> bool:  # noqa: ANN001
    return urlsplit(request.url).path == "/search"


def test_ranking_options_group_translations_and_echo(page, live_url: str) -> None:  # noqa: ANN001
    console_errors: list[str] = []

    def on_console(msg) -> None:  # noqa: ANN001
        if msg.type == "error":
            console_errors.append(msg.text)

    page.on("console", on_console)
    page.goto(live_url + "/")  # a fresh page: no language chip left pressed
    page.wait_for_selector("#collection option[value='news']", state="attached")
    assert page.input_value("#balance") == ""  # "server default": nothing sent
    for name, control in [("language balance", "balance"), ("keyword boost", "hybrid"),
                          ("group translations", "group")]:  # labelled controls
        assert page.get_by_label(name).get_attribute("id") == control
    page.fill("#q", "¿A qué hora sale el próximo tren al aeropuerto?")
    with page.expect_request(_is_search) as first:
        page.press("#q", "Enter")
    sent = _search_params(first.value)
    assert not {"balance", "mode", "group_translations"} & sent.keys(), sent
    page.wait_for_selector("#results li.hit")
    assert page.inner_text("#applied-balance") == "fair"  # the server defaults
    assert page.inner_text("#applied-mode") == "hybrid"
    assert page.is_checked("#hybrid")  # an option left to the server shows what it did
    assert page.query_selector("#results .also-in") is None  # not grouped by default

    # Group translations: sent, and the parallel corpus folds into one hit per topic.
    with page.expect_response(lambda r: _is_search(r.request)) as grouped:
        page.check("#group")
    assert _search_params(grouped.value.request)["group_translations"] == ["true"]
    body = grouped.value.json()
    page.wait_for_selector("#results li.hit .also-in li")
    top = body["hits"][0]
    assert top["doc_id"].startswith("train/") and top["also_in"], top
    also = top["also_in"]
    assert all(a["doc_id"].startswith("train/") for a in also), also
    first_hit = page.query_selector("#results li.hit")
    assert first_hit.get_attribute("data-doc") == top["doc_id"]
    badges = first_hit.query_selector_all(".also-in li")
    assert [b.get_attribute("data-lang") for b in badges] == [a["lang"] for a in also]
    tips = [b.query_selector(".badge").get_attribute("title") for b in badges]
    assert all(a["title"] in t and a["doc_id"] in t for a, t in zip(also, tips, strict=True))
    assert first_hit.query_selector(".badge.lang").inner_text().lower() == top["lang"]
    assert first_hit.query_selector(".snippet") is not None
    assert "group_translations=true" in page.url  # a grouped search can be shared

    # Balance "interleave": sent with the grouping kept, and echoed on the page.
    with page.expect_request(_is_search) as inter:
        page.select_option("#balance", "interleave")
    sent = _search_params(inter.value)
    assert sent["balance"] == ["interleave"] and sent["group_translations"] == ["true"], sent
    page.wait_for_function(
        "() => document.getElementById('applied-balance')?.textContent === 'interleave'"
    )

    # Keyboard: Space on the focused hybrid toggle re-runs the query dense only.
    page.focus("#hybrid")
    with page.expect_request(_is_search) as hybrid:
        page.keyboard.press("Space")
    assert _search_params(hybrid.value)["mode"] == ["dense"]
    page.wait_for_function(
        "() => document.getElementById('applied-mode')?.textContent === 'dense'"
    )
    page.wait_for_selector("#results li.hit")
    page.screenshot(path=str(ARTIFACTS / "search_page_ranking.png"), full_page=True)

    # The URL carries the options: opening it restores the controls and the search.
    shared = page.url
    assert {"balance", "mode", "group_translations"} <= parse_qs(urlsplit(shared).query).keys()
    with page.expect_request(_is_search) as restored:
        page.goto(shared)
    assert _search_params(restored.value) == _search_params(hybrid.value)
    assert page.input_value("#balance") == "interleave"
    assert not page.is_checked("#hybrid") and page.is_checked("#group")
    page.wait_for_function(
        "() => document.getElementById('applied-balance')?.textContent === 'interleave'"
    )
    page.remove_listener("console", on_console)
    assert not console_errors, console_errors
