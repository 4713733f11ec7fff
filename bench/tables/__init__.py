"""README tables generated from committed result files.

Each module here exposes ``TABLES: dict[str, Callable[[Path], str]]``: a table
name -> a function of the repository root that returns the Markdown table (read
from result files under ``bench/results/`` or ``docs/eval/``). ``python -m
bench.report --readme`` writes each one into README.md between
``<!-- BEGIN TABLE name -->`` and ``<!-- END TABLE name -->``; ``--check`` fails
when the README and the result files disagree. Modules named ``_*`` are helpers
(``_source.py``: read a result file; the source line under a table naming the
file, command, commit, clean tree or not, machine and load).
"""
