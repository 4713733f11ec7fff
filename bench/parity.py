"""The parity figures of a model bundle, as a result file.

``xsearch model build`` measures them (the parity gate: every probe sentence
through the exported graphs against sentence-transformers) and stores them in
the bundle's ``manifest.json``, which is not part of the repository. This copies
them, with the bundle's identity, into ``bench/results/parity.json`` so the
README's figures come from a committed file.

    python -m bench.parity                      # the default bundle of XSEARCH_HOME
    python -m bench.parity --bundle /path/to/bundle
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.common import RESULTS, find_bundle
from xsearch.provenance import write_result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m bench.parity", description=__doc__)
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: settings)")
    ap.add_argument("--out", type=Path, default=RESULTS / "parity.json", help="result file")
    args = ap.parse_args(argv)
    manifest = json.loads((find_bundle(args.bundle) / "manifest.json").read_text("utf-8"))
    results = {
        key: manifest.get(key)
        for key in ("name", "source", "revision", "fingerprint", "created", "xsearch_version")
    }
    results["parity"] = manifest["parity"]
    write_result(args.out, results, command=["python", "-m", "bench.parity", *argv])
    print(json.dumps(results["parity"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
