"""Where a run is: counters, the live display, and the final summary.

On a terminal a rich progress bar (documents, passages, documents/s, and an
ETA from bytes read when the input size is known); elsewhere (logs, CI) a
plain line every few seconds; nothing with ``--quiet``. The summary table is
printed in every mode except ``--json``, which prints the same figures as JSON.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table


@dataclass
class RunStats:
    read: int = 0  # records read: documents and rejected records
    indexed: int = 0  # documents written (new or changed)
    unchanged: int = 0  # skipped: same content hash as the stored version
    rejected: int = 0
    other_shard: int = 0  # documents of other shards (--shard)
    duplicates: int = 0  # a later document in the same batch had the same id
    passages: int = 0  # points written
    orphans: int = 0  # old passages deleted (documents that got shorter)
    truncated: int = 0  # passages the encoder had to cut (should stay 0)
    encode_seconds: float = 0.0  # encoder busy time
    store_seconds: float = 0.0  # time in store writes
    plan_seconds: float = 0.0  # content-hash lookups and chunking
    optimize_seconds: float = 0.0
    api_seconds: float = 0.0  # --api: time waiting for the server
    wall_seconds: float = 0.0
    skipped_files: int = 0
    interrupted: bool = False
    # CPU seconds per pipeline stage, each on its own thread (time.thread_time):
    # read, plan (hash lookups, chunking, language detection), encode (the encoder's
    # calling thread: tokenising, packing, its share of onnxruntime's work), write.
    # onnxruntime's other intra-op threads are in none of them (process CPU - sum).
    stage_cpu: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: float) -> None:
        with self.lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def add_cpu(self, stage: str, seconds: float) -> None:
        with self.lock:
            self.stage_cpu[stage] = self.stage_cpu.get(stage, 0.0) + seconds

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def docs_per_second(self) -> float:
        done = self.indexed + self.unchanged
        wall = self.wall_seconds or self.elapsed
        return done / wall if wall > 0 else 0.0

    @property
    def outside_encoder(self) -> float:
        """Share of wall time the encoder was idle (the pipeline's overhead)."""
        wall = self.wall_seconds or self.elapsed
        return max(0.0, 1.0 - self.encode_seconds / wall) if wall > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        skip = ("started", "lock")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out["docs_per_second"] = round(self.docs_per_second, 2)
        out["outside_encoder"] = round(self.outside_encoder, 4)
        out["stage_cpu"] = {k: round(v, 3) for k, v in self.stage_cpu.items()}
        return out


class Reporter(Protocol):
    def start(self, total_bytes: int | None) -> None: ...
    def update(self, stats: RunStats, bytes_read: int) -> None: ...
    def stop(self) -> None: ...


class QuietReporter:
    def start(self, total_bytes: int | None) -> None:
        pass

    def update(self, stats: RunStats, bytes_read: int) -> None:
        pass

    def stop(self) -> None:
        pass


class LogReporter:
    """A plain line every ``interval`` seconds, for logs and pipes."""

    def __init__(self, console: Console, interval: float = 10.0) -> None:
        self.console = console
        self.interval = interval
        self.total: int | None = None
        self._last = time.perf_counter()
        self._lock = threading.Lock()

    def start(self, total_bytes: int | None) -> None:
        self.total = total_bytes or None

    def update(self, stats: RunStats, bytes_read: int) -> None:
        now = time.perf_counter()
        with self._lock:
            if now - self._last < self.interval:
                return
            self._last = now
        line = (
            f"{stats.indexed + stats.unchanged:,} documents ({stats.indexed:,} indexed, "
            f"{stats.unchanged:,} unchanged, {stats.rejected:,} rejected), "
            f"{stats.passages:,} passages, {stats.docs_per_second:,.1f} docs/s"
        )
        if self.total:
            frac = min(bytes_read / self.total, 1.0)
            line += f", {frac:.0%} of input"
            if frac > 0:
                line += f", ETA {_duration(stats.elapsed * (1 - frac) / frac)}"
        self.console.print(line, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        pass


class RichReporter:
    """A live bar; its total is the input size in bytes so the ETA is meaningful."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]indexing"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[docs]} docs • {task.fields[passages]} passages"),
            TextColumn("• {task.fields[rate]} docs/s • rejected {task.fields[rejected]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: Any = None

    def start(self, total_bytes: int | None) -> None:
        self.task = self.progress.add_task(
            "index", total=total_bytes or None, docs="0", passages="0", rate="0", rejected="0"
        )
        self.progress.start()

    def update(self, stats: RunStats, bytes_read: int) -> None:
        self.progress.update(
            self.task,
            completed=bytes_read,
            docs=f"{stats.indexed + stats.unchanged:,}",
            passages=f"{stats.passages:,}",
            rate=f"{stats.docs_per_second:,.0f}",
            rejected=f"{stats.rejected:,}",
        )

    def stop(self) -> None:
        self.progress.stop()


def make_reporter(console: Console, *, quiet: bool, interval: float = 10.0) -> Reporter:
    if quiet:
        return QuietReporter()
    if console.is_terminal:
        return RichReporter(console)
    return LogReporter(console, interval)


def summary_table(stats: RunStats, *, title: str = "indexing summary") -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    wall = stats.wall_seconds or stats.elapsed
    rows: list[tuple[str, str]] = [
        ("read", f"{stats.read:,}"),
        ("indexed", f"{stats.indexed:,}"),
        ("unchanged (same content hash)", f"{stats.unchanged:,}"),
        ("rejected", f"{stats.rejected:,}"),
    ]
    if stats.other_shard:
        rows.append(("other shards (--shard)", f"{stats.other_shard:,}"))
    if stats.duplicates:
        rows.append(("replaced by a later duplicate id", f"{stats.duplicates:,}"))
    if stats.skipped_files:
        rows.append(("files of unknown format skipped", f"{stats.skipped_files:,}"))
    rows += [
        ("passages written", f"{stats.passages:,}"),
        ("old passages removed", f"{stats.orphans:,}"),
    ]
    if stats.truncated:
        rows.append(("passages truncated by the encoder", f"{stats.truncated:,}"))
    remote = stats.api_seconds > 0 and stats.encode_seconds == 0
    if remote:  # the server encodes and writes: only its answer time is known here
        rows.append(("time waiting for the API", _duration(stats.api_seconds)))
    else:
        rows += [
            ("encode time", _duration(stats.encode_seconds)),
            ("store time", _duration(stats.store_seconds)),
            ("plan + chunk time", _duration(stats.plan_seconds)),
        ]
    if stats.optimize_seconds:
        rows.append(("index build (optimize)", _duration(stats.optimize_seconds)))
    rows += [("wall time", _duration(wall)), ("documents/s", f"{stats.docs_per_second:,.1f}")]
    if not remote:
        rows.append(("wall time outside the encoder", f"{stats.outside_encoder:.1%}"))
    for what, value in rows:
        table.add_row(what, value)
    return table


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"
