"""The Prometheus text exposition written by api/metrics.py (no client library)."""

from __future__ import annotations

from xsearch.api.deps import COLLECTION_PATTERN
from xsearch.api.metrics import Counter, Histogram, Metrics


def test_counter_escapes_label_values() -> None:
    c = Counter("x_total", "help text", ("route",))
    c.inc('/a"b\\c\nd')
    c.inc('/a"b\\c\nd', amount=2)
    lines = list(c.render())
    assert lines[:2] == ["# HELP x_total help text", "# TYPE x_total counter"]
    assert lines[2] == 'x_total{route="/a\\"b\\\\c\\nd"} 3'


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    h = Histogram("lat_seconds", "latency", ("route",), buckets=(0.01, 0.1, 1.0))
    for v in (0.005, 0.05, 0.05, 0.5, 5.0):
        h.observe(v, "/search")
    lines = [line for line in h.render() if not line.startswith("#")]
    assert lines == [
        'lat_seconds_bucket{route="/search",le="0.01"} 1',
        'lat_seconds_bucket{route="/search",le="0.1"} 3',
        'lat_seconds_bucket{route="/search",le="1"} 4',
        'lat_seconds_bucket{route="/search",le="+Inf"} 5',
        'lat_seconds_sum{route="/search"} 5.605',
        'lat_seconds_count{route="/search"} 5',
    ]
    assert h.count("/search") == 5


def test_every_metric_has_help_and_type_even_before_traffic() -> None:
    text = Metrics().render()
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert {"xsearch_http_requests_total", "xsearch_http_request_duration_seconds",
            "xsearch_encode_seconds", "xsearch_encode_batch_size", "xsearch_search_seconds",
            "xsearch_documents_indexed_total"} <= set(names)
    assert text.endswith("\n")


def test_collection_pattern_is_the_stores() -> None:
    from xsearch.store.base import validate_name
    from xsearch.validation import COLLECTION_NAME_PATTERN

    assert COLLECTION_PATTERN is COLLECTION_NAME_PATTERN  # one definition, not a copy
    assert validate_name("news-2024_b") == "news-2024_b"
