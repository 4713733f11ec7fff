"""Prometheus metrics in the text exposition format (0.0.4), without a client library.

Request counts and latency histograms per route template (``/collections/{collection}``,
never the raw path, so the number of series stays bounded), encode and search
times, micro-batch sizes and documents indexed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


class Counter:
    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.label_names:  # an unlabelled series exists from the start
            items = [((), 0.0)]
        for labels, v in items:
            yield f"{self.name}{_labels(self.label_names, labels)} {_num(v)}"


class Gauge(Counter):
    def dec(self, *labels: str, amount: float = 1.0) -> None:
        self.inc(*labels, amount=-amount)

    def render(self) -> Iterable[str]:
        lines = list(super().render())
        lines[1] = f"# TYPE {self.name} gauge"
        return lines


class Histogram:
    def __init__(
        self, name: str, help: str, labels: Sequence[str] = (), buckets: Sequence[float] = ()
    ) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.buckets = tuple(sorted(buckets or LATENCY_BUCKETS))
        # per label tuple: [bucket counts..., +Inf count], sum
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            counts = self._counts.setdefault(labels, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
                    break
            else:
                counts[-1] += 1
            self._sums[labels] = self._sums.get(labels, 0.0) + value

    def count(self, *labels: str) -> int:
        return sum(self._counts.get(labels, []))

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        for labels, counts, total in items:
            cumulative = 0
            for bound, c in zip(self.buckets, counts, strict=False):
                cumulative += c
                le = _labels(self.label_names, labels, f'le="{_num(bound)}"')
                yield f"{self.name}_bucket{le} {cumulative}"
            cumulative += counts[-1]
            inf = _labels(self.label_names, labels, 'le="+Inf"')
            yield f"{self.name}_bucket{inf} {cumulative}"
            yield f"{self.name}_sum{_labels(self.label_names, labels)} {_num(total)}"
            yield f"{self.name}_count{_labels(self.label_names, labels)} {cumulative}"


class Metrics:
    """Every metric the API exports; one instance per app."""

    def __init__(self) -> None:
        self.requests = Counter(
            "xsearch_http_requests_total", "HTTP requests by route and status",
            ("method", "route", "status"),
        )
        self.latency = Histogram(
            "xsearch_http_request_duration_seconds", "HTTP request latency by route",
            ("method", "route"),
        )
        self.in_flight = Gauge("xsearch_http_requests_in_flight", "requests being served")
        self.encode_seconds = Histogram(
            "xsearch_encode_seconds", "time to encode one micro-batch of queries"
        )
        self.encode_batch = Histogram(
            "xsearch_encode_batch_size", "queries encoded together in one micro-batch",
            buckets=BATCH_BUCKETS,
        )
        self.query_cache_hits = Counter(
            "xsearch_query_cache_hits_total", "queries answered with a kept vector (no encoding)"
        )
        self.search_seconds = Histogram(
            "xsearch_search_seconds", "store query + ranking time per search"
        )
        self.documents = Counter(
            "xsearch_documents_indexed_total", "documents sent to the API by outcome",
            ("status",),
        )
        # API writes: passages per encoder call = passages / calls (smaller calls
        # cost more per passage; the bulk pipeline encodes ~512 per call)
        self.write_encode_calls = Counter(
            "xsearch_write_encode_calls_total", "encoder calls of the passage batcher (writes)"
        )
        self.write_encode_passages = Counter(
            "xsearch_write_encode_passages_total", "passages encoded by the passage batcher"
        )
        self.started = time.time()

    def render(self) -> str:
        parts: list[str] = []
        for m in (self.requests, self.latency, self.in_flight, self.encode_seconds,
                  self.encode_batch, self.query_cache_hits, self.search_seconds, self.documents,
                  self.write_encode_calls, self.write_encode_passages):
            parts.extend(m.render())
        parts.append("# HELP xsearch_process_start_time_seconds start time of the process")
        parts.append("# TYPE xsearch_process_start_time_seconds gauge")
        parts.append(f"xsearch_process_start_time_seconds {self.started:.3f}")
        return "\n".join(parts) + "\n"


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by the matched route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # an exception escaping the app ends as a 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or ("static" if scope["path"].startswith(
                "/static/") else "unmatched")
            method = scope["method"]
            self.metrics.requests.inc(method, template, str(status))
            self.metrics.latency.observe(time.perf_counter() - start, method, template)
