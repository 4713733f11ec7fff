"""Reading XQuAD-shaped question/paragraph data.

A folder with two JSONL files:

- ``parallel_paragraphs.jsonl``: ``{"pid": 0, "title_en": "...", "context": {"en": "...",
  "de": "...", ...}}`` — one paragraph, the same text in several languages;
- ``parallel_questions.jsonl``: ``{"qid": "...", "pid": 0, "question": {"en": "...", ...}}``
  — a question (in the same languages) answered by paragraph ``pid``.

Other fields are ignored. Every paragraph and question must carry every
evaluated language: a missing one is an error naming the line, never a silent
hole in the matrix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xsearch.errors import InputError

PARAGRAPHS_FILE = "parallel_paragraphs.jsonl"
QUESTIONS_FILE = "parallel_questions.jsonl"


@dataclass
class Question:
    qid: str
    pid: str
    text: dict[str, str]  # lang -> question


@dataclass
class QAData:
    langs: list[str]
    paragraphs: dict[str, dict[str, str]]  # pid -> lang -> paragraph text
    questions: list[Question]
    source: str
    total_questions: int  # before --max-questions
    total_paragraphs: int  # before --max-paragraphs


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError(
            f"missing {path}",
            fix=f"an XQuAD-shaped folder holds {PARAGRAPHS_FILE} and {QUESTIONS_FILE}",
        )
    rows: list[tuple[int, dict[str, Any]]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{n}: invalid JSON ({exc.msg})", fix="fix the line"
                ) from exc
            if not isinstance(row, dict):
                raise InputError(f"{path}:{n}: expected a JSON object", fix="fix the line")
            rows.append((n, row))
    if not rows:
        raise InputError(f"{path} is empty", fix="give at least one record")
    return rows


def _texts(row: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = row.get(key)
    if not isinstance(value, dict) or not value:
        raise InputError(f"{where}: field {key!r} must be an object {{lang: text}}", fix="fix it")
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where}: {key}[{lang!r}] is empty or not a string", fix="fix it")
    return value


def _pick_evenly(n_total: int, n: int) -> list[int]:
    # Evenly spaced rather than the first n: the data is sorted by article, and
    # the first n would all come from the same few topics.
    return sorted({int(i) for i in np.linspace(0, n_total - 1, n)})


def load_qa(
    path: Path,
    *,
    langs: list[str] | None = None,
    max_questions: int | None = None,
    max_paragraphs: int | None = None,
) -> QAData:
    """Read an XQuAD-shaped folder.

    ``langs``: the languages to evaluate (default: those every record carries).
    ``max_paragraphs``: keep that many paragraphs (evenly spread) and their questions.
    ``max_questions``: then keep that many questions (evenly spread); every kept
    paragraph stays in the index as a candidate.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path} is not a folder", fix=f"point at the folder of {PARAGRAPHS_FILE}")
    para_rows = _read_jsonl(path / PARAGRAPHS_FILE)
    q_rows = _read_jsonl(path / QUESTIONS_FILE)

    paragraphs: dict[str, dict[str, str]] = {}
    for n, row in para_rows:
        where = f"{path / PARAGRAPHS_FILE}:{n}"
        if "pid" not in row:
            raise InputError(f"{where}: missing 'pid'", fix="give every paragraph an id")
        pid = str(row["pid"])
        if pid in paragraphs:
            raise InputError(f"{where}: duplicate pid {pid}", fix="paragraph ids must be unique")
        paragraphs[pid] = _texts(row, "context", where)
    questions: list[Question] = []
    for n, row in q_rows:
        where = f"{path / QUESTIONS_FILE}:{n}"
        pid = str(row.get("pid"))
        if pid not in paragraphs:
            raise InputError(f"{where}: pid {pid} names no paragraph", fix="fix the pid")
        questions.append(Question(str(row.get("qid", n)), pid, _texts(row, "question", where)))

    common = set.intersection(
        *(set(t) for t in paragraphs.values()), *(set(q.text) for q in questions)
    )
    if langs is None:
        first = next(iter(paragraphs.values()))
        langs = [lang for lang in first if lang in common]  # the file's order
    else:
        _check_langs(langs, paragraphs, questions, path)
    if not langs:
        raise InputError("no language is present in every record", fix="pass --langs")

    total_p, total_q = len(paragraphs), len(questions)
    if max_paragraphs is not None and max_paragraphs < total_p:
        keep = [list(paragraphs)[i] for i in _pick_evenly(total_p, max_paragraphs)]
        paragraphs = {pid: paragraphs[pid] for pid in keep}
        questions = [q for q in questions if q.pid in paragraphs]
    if max_questions is not None and max_questions < len(questions):
        questions = [questions[i] for i in _pick_evenly(len(questions), max_questions)]
    if not questions:
        raise InputError("no question is left to evaluate", fix="raise --max-paragraphs")
    paragraphs = {pid: {lang: t[lang] for lang in langs} for pid, t in paragraphs.items()}
    questions = [Question(q.qid, q.pid, {lang: q.text[lang] for lang in langs}) for q in questions]
    return QAData(list(langs), paragraphs, questions, str(path), total_q, total_p)


def _check_langs(
    langs: list[str], paragraphs: dict[str, dict[str, str]], questions: list[Question], path: Path
) -> None:
    for lang in langs:
        p_missing = [pid for pid, t in paragraphs.items() if lang not in t]
        q_missing = [q.qid for q in questions if lang not in q.text]
        if p_missing or q_missing:
            raise InputError(
                f"language {lang!r} is missing from {len(p_missing)} paragraph(s) and "
                f"{len(q_missing)} question(s) in {path} (first: "
                f"{(p_missing or q_missing)[0]})",
                fix="choose languages every record carries with --langs",
            )
