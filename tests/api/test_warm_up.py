"""The server pays its one-off costs at start, not on the first request."""

from __future__ import annotations

import pytest

from tests.api.conftest import ClientFactory


def test_start_loads_both_language_detectors_and_the_stop_words(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xsearch.ranking.lexical import frequent_words
    from xsearch.text import langid, shortid

    # as in a fresh process: nothing loaded yet (monkeypatch restores them after)
    frequent_words.cache_clear()
    monkeypatch.setattr(langid, "_factory", None)
    monkeypatch.setattr(shortid, "_model", None)
    client = make_client()  # started: the lifespan ran
    assert client.get("/ready").status_code == 200
    assert frequent_words.cache_info().currsize == 1  # hybrid stop words, read at start
    assert langid._factory is not None  # langdetect's profiles (passages)
    assert shortid._model is not None  # the short-text model (queries)
