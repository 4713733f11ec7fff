"""Every ``from xsearch… import name`` in the code names something that exists.

Many imports sit inside functions (to keep `xsearch --help` and the server's start
fast), where neither ruff nor an import of the module sees them: a refactor once
moved a CLI helper and left `xsearch demo` failing at its last step while every
other test passed. This reads each such statement and resolves it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("xsearch", "api", "indexer", "bench")


def own_imports() -> list[tuple[str, int, str, str]]:
    found = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.level == 0
                    and node.module
                    and node.module.split(".")[0] in ("xsearch", "bench")
                ):
                    rel = str(path.relative_to(REPO))
                    found += [(rel, node.lineno, node.module, a.name) for a in node.names]
    return found


def test_every_imported_name_exists() -> None:
    imports = own_imports()
    assert len(imports) > 100  # the walk found the code
    missing = []
    for where, line, module, name in imports:
        try:
            mod = importlib.import_module(module)
        except ImportError as err:
            if err.name and err.name.split(".")[0] in ("xsearch", "bench"):
                missing.append(f"{where}:{line}: {module} ({err})")
                continue
            continue  # an optional dependency (e.g. the GPU extra) is not installed here
        if name != "*" and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{where}:{line}: {name} from {module}")
    assert not missing, "\n".join(missing)
