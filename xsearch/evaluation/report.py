"""Presenting evaluation results: rich tables, JSON-ready dicts, a heatmap PNG.

Ranking settings are always columns, so two settings read side by side.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xsearch.errors import InputError
from xsearch.evaluation.qa import MAIN_METRIC

if TYPE_CHECKING:
    from rich.console import Console

    from xsearch.evaluation.bitext import BitextReport
    from xsearch.evaluation.qa import QAReport, SettingResult

MATRIX_METRICS = (("mrr_10", "MRR@10"), ("recall_1", "recall@1"), ("recall_10", "recall@10"))


# --- bitext ------------------------------------------------------------------
def print_bitext(report: BitextReport, console: Console) -> None:
    from rich.table import Table

    ref = report.reference_model
    table = Table(
        title=f"Bitext accuracy@1 (%) — {report.bundle} ({report.variant}), "
        f"prompt '{report.kind}' on both sides"
    )
    for col in ("pair", "pairs", "src→tgt", "tgt→src", "mean"):
        table.add_column(col, justify="left" if col == "pair" else "right")
    if ref:
        table.add_column(f"published {ref} (src→tgt)", justify="right")
        table.add_column("Δ", justify="right")
    for p in report.pairs:
        row = [p.name, str(p.pairs), f"{p.src_to_tgt:.1f}", f"{p.tgt_to_src:.1f}", f"{p.mean:.1f}"]
        if ref:
            row += _ref_cells(p.src_to_tgt, p.reference)
        table.add_row(*row)
    mean_row = [
        "mean",
        "",
        f"{report.mean_src_to_tgt:.1f}",
        f"{report.mean_tgt_to_src:.1f}",
        f"{(report.mean_src_to_tgt + report.mean_tgt_to_src) / 2:.1f}",
    ]
    if ref:
        mean_row += _ref_cells(report.mean_src_to_tgt, report.mean_reference)
    table.add_section()
    table.add_row(*mean_row, style="bold")
    console.print(table)
    truncated = sum(p.truncated for p in report.pairs)
    if truncated:
        console.print(
            f"[yellow]{truncated} sentence(s) were longer than the model window "
            "and were truncated[/yellow]"
        )
    if report.reference_source and not ref:
        console.print(
            f"references in {report.reference_source} list no model named like "
            f"{report.bundle!r}; pick one with --reference-model"
        )


def _ref_cells(ours: float, ref: float | None) -> list[str]:
    if ref is None:
        return ["—", ""]
    return [f"{ref:.1f}", f"{ours - ref:+.1f}"]


# --- QA ----------------------------------------------------------------------
def qa_to_dict(report: QAReport) -> dict[str, Any]:
    out = asdict(report)
    for row, res in zip(out["settings"], report.settings, strict=True):
        row["summary"] = res.summary()
    out["metrics"] = {
        "matrix": "per (question lang X, paragraph lang Y): recall@1, recall@10, MRR@10",
        "mixed.map": f"mAP@{report.depth}, relevant = the paragraph in every language (LAReQA);"
        " a lower bound of the full-ranking mAP",
        "mixed.same_share": "share of top-10 hits in the query's own language",
        "mixed.blind_share": "1 / number of languages (a language-blind ranker)",
        "layouts": "per corpus shape (parallel, disjoint, skewed; pool for eval pool): "
        "map, mrr_10, recall_1, recall_10, same_share; relevant = the question's "
        "paragraph in every language the shape keeps it in",
        "main_metric": "the figure each shape is judged by: "
        + ", ".join(f"{k}: {v}" for k, v in MAIN_METRIC.items()),
    }
    return out


def print_layouts(settings: list[SettingResult], layouts: list[str], console: Console) -> None:
    """One row per setting, per layout: main metric, recall@1/@10 and own-language share."""
    from rich.table import Table

    table = Table(title="Ranking settings on every corpus shape")
    table.add_column("setting")
    for name in layouts:
        main = MAIN_METRIC.get(name, "mrr_10")
        table.add_column(f"{name}\n{_LABEL[main]} / R@1 / R@10 / own%", justify="right")
    for res in settings:
        if not res.supported or not res.layouts:
            continue
        cells = []
        for name in layouts:
            m = res.layouts.get(name)
            if m is None:
                cells.append("—")
                continue
            main = getattr(m, MAIN_METRIC.get(name, "mrr_10"))
            cells.append(
                f"{main:.3f} / {m.recall_1:.3f} / {m.recall_10:.3f} / {100 * m.same_share:.0f}%"
            )
        table.add_row(_header(res), *cells)
    console.print(table)


_LABEL = {"map": "mAP", "mrr_10": "MRR@10"}


def print_qa(report: QAReport, console: Console) -> None:
    from rich.markup import escape

    console.print(
        f"[bold]QA retrieval[/bold] — {report.bundle} ({report.variant}) on {report.source}: "
        f"{report.n_paragraphs} paragraphs × {len(report.langs)} languages = "
        f"{report.n_documents} documents ({report.n_passages} passages), "
        f"{report.n_questions} questions per language"
    )
    ran = [s for s in report.settings if s.supported]
    if any(r.layouts for r in ran):
        print_layouts(ran, list(report.layouts), console)
    _print_summary(ran, report, console)
    for res in ran:
        if res.same_as:
            continue  # its matrix is the earlier setting's, printed once
        if len(res.matrix) == len(report.langs) and all(
            len(row) == len(report.langs) for row in res.matrix.values()
        ):
            for key, label in MATRIX_METRICS:
                _print_matrix(res, report.langs, key, label, console)
    if ran and ran[0].mixed:
        _print_per_lang(ran, report.langs, report.depth, console)
    for res in report.settings:
        if not res.supported:
            reason = escape(res.reason or "")
            console.print(f"[yellow]setting {res.name!r} not run:[/yellow] {reason}")


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if pct else f"{value:.3f}"


def _print_summary(ran: list[SettingResult], report: QAReport, console: Console) -> None:
    from rich.table import Table

    table = Table(title="Ranking settings side by side")
    table.add_column("metric")
    for res in ran:
        table.add_column(_header(res), justify="right")
    sums = [r.summary() for r in ran]
    blind = 1 / len(report.langs)
    rows = [
        (f"mixed pool mAP@{report.depth}", "mixed_map", False),
        (f"same-language share of top 10 (blind: {100 * blind:.1f}%)", "mixed_same_share", True),
        ("same-language MRR@10 (X = Y)", "same_lang_mrr_10", False),
        ("cross-language MRR@10 (X ≠ Y)", "cross_lang_mrr_10", False),
    ]
    for label, key, pct in rows:
        table.add_row(label, *[_fmt(s[key], pct) for s in sums])
    console.print(table)


def _print_matrix(
    res: SettingResult, langs: list[str], key: str, label: str, console: Console
) -> None:
    from rich import box
    from rich.table import Table

    # Percent, no vertical rules: 12 languages fit in 80 columns (a pipe or a
    # file gets 80), where "0.83" cells with borders were cut to "0.…".
    table = Table(
        title=f"{label} ({res.name}, × 100)",
        caption="rows: question language, columns: paragraph language",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column("X \\ Y")
    for y in langs:
        table.add_column(y, justify="right")
    for x in langs:
        cells = []
        for y in langs:
            v = 100 * getattr(res.matrix[x][y], key)
            cells.append(f"[bold]{v:.0f}[/bold]" if x == y else f"{v:.0f}")
        table.add_row(x, *cells)
    console.print(table)


def _header(res: SettingResult) -> str:
    return f"{res.name}\n(= {res.same_as})" if res.same_as else res.name


def _print_per_lang(
    ran: list[SettingResult], langs: list[str], depth: int, console: Console
) -> None:
    from rich.table import Table

    table = Table(
        title=f"Mixed pool per query language: mAP@{depth} / same-language share of top 10"
    )
    table.add_column("query lang")
    with_mixed = [r for r in ran if r.mixed]
    for res in with_mixed:
        table.add_column(_header(res), justify="right")
    for x in langs:
        table.add_row(
            x,
            *[
                f"{r.mixed.per_lang[x]['map']:.3f} / {100 * r.mixed.per_lang[x]['same_share']:.0f}%"
                for r in with_mixed  # type: ignore[union-attr]
            ],
        )
    console.print(table)


# --- plot --------------------------------------------------------------------
def plot_qa_matrix(report: QAReport, path: Path, setting: str | None = None) -> Path:
    """Heatmaps (MRR@10, recall@1, recall@10) of the first setting with a full matrix."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt
    import numpy as np

    langs = report.langs
    candidates = [
        s
        for s in report.settings
        if s.supported
        and len(s.matrix) == len(langs)
        and all(len(r) == len(langs) for r in s.matrix.values())
    ]
    if setting:
        candidates = [s for s in candidates if s.name == setting]
    if not candidates:
        raise InputError(
            "no setting has a full X × Y matrix to plot",
            fix="run with --matrix first (the default) or --matrix all",
        )
    res = candidates[0]
    n = len(langs)
    side = 0.5 * n + 2.0  # inches per panel: cells stay readable from 3 to ~16 languages
    fig, axes = plt.subplots(1, 3, figsize=(3 * (side + 1.0), side + 1.0), squeeze=False)
    for ax, (key, label) in zip(axes[0], MATRIX_METRICS, strict=True):
        grid = np.array([[getattr(res.matrix[x][y], key) for y in langs] for x in langs])
        im = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_xticks(range(n), langs)
        ax.set_yticks(range(n), langs)
        ax.set_xlabel("paragraph language")
        ax.set_ylabel("question language")
        ax.set_title(label)
        if n <= 16:  # numbers stay legible up to about this size
            for i in range(n):
                for j in range(n):
                    ax.text(
                        j,
                        i,
                        f"{grid[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if grid[i, j] < 0.6 else "black",
                    )
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(
        f"{report.bundle} [{report.variant}] — {res.name}: question → paragraph "
        f"({report.n_questions} questions, {report.n_paragraphs} paragraphs)"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_layouts(
    settings: list[SettingResult], layouts: list[str], path: Path, variant: str = ""
) -> Path:
    """Bars: each setting's main metric on each corpus shape."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ran = [s for s in settings if s.supported and s.layouts]
    if not ran:
        raise InputError("no setting has layout results to plot", fix="run at least one setting")
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(layouts) * max(len(ran), 4) / 4, 4.5))
    width = 0.8 / len(ran)
    x = np.arange(len(layouts))
    for i, res in enumerate(ran):
        vals = [
            getattr(res.layouts[n], MAIN_METRIC.get(n, "mrr_10")) if n in res.layouts else 0.0
            for n in layouts
        ]
        ax.bar(x + i * width, vals, width, label=res.name)
    ax.set_xticks(
        x + 0.4 - width / 2, [f"{n}\n({_LABEL[MAIN_METRIC.get(n, 'mrr_10')]})" for n in layouts]
    )
    ax.set_ylim(0, 1)
    ax.set_title(f"Ranking settings by corpus shape {variant}")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
