"""Documents and passages: the records that flow from sources to the store.

A point id is UUID5(document id, passage number), so re-indexing a document
overwrites its points instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from xsearch.errors import InputError
from xsearch.validation import check_id, check_number, check_text

# A fixed namespace: point ids must be identical across machines and runs.
POINT_NAMESPACE = uuid.UUID("6f0c2a5e-8a53-4c1b-9c5e-2f1d3b7a9e41")

MetaValue = str | int | float | bool
_KNOWN_FIELDS = {"id", "text", "title", "url", "lang", "metadata"}


def point_id(doc_id: str, number: int) -> str:
    """Deterministic point id of passage ``number`` of document ``doc_id``."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}\x1f{number}"))


def content_id(text: str, title: str | None = None) -> str:
    """Id derived from the content, for documents that come without one."""
    h = hashlib.sha256(((title or "") + "\x1f" + text).encode("utf-8")).hexdigest()
    return f"sha256:{h[:32]}"


@dataclass(slots=True)
class Document:
    id: str
    text: str
    title: str | None = None
    url: str | None = None
    lang: str | None = None  # given by the user: wins over detection
    metadata: dict[str, MetaValue] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, extra_to_metadata: bool = True) -> Document:
        """Build and validate a document from a JSON-like dict.

        Unknown top-level fields go to ``metadata`` (flat values only).
        Raises :class:`InputError` naming the field and the fix.
        """
        if not isinstance(data, dict):
            raise InputError(
                f"a document must be a JSON object, got {type(data).__name__}",
                fix='write {"id": ..., "text": ...}',
            )
        text = data.get("text")
        if not isinstance(text, str):
            raise InputError(
                "missing text field" if text is None else "field 'text' must be a string",
                fix='give every document a "text" string (or choose the field with --text-field)',
            )
        check_text(text, "field 'text'")
        if not text.strip():
            raise InputError("field 'text' is empty", fix="give the document some text")
        title = _opt_str(data, "title")
        raw_id = data.get("id")
        if raw_id is None or raw_id == "":
            doc_id = content_id(text, title)
        elif isinstance(raw_id, str):
            doc_id = check_id(raw_id)
        elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
            # true/false are not ids: str(True) would be "True", int(True) document "1".
            doc_id = str(check_number(raw_id, "field 'id'"))
        else:
            raise InputError(
                f"field 'id' must be a string or an integer, got {_json_type(raw_id)}",
                fix="fix the id",
            )
        meta_in = data.get("metadata") or {}
        if not isinstance(meta_in, dict):
            raise InputError("field 'metadata' must be an object", fix="use a flat JSON object")
        metadata: dict[str, MetaValue] = {}
        items = list(meta_in.items())
        if extra_to_metadata:
            items += [(k, v) for k, v in data.items() if k not in _KNOWN_FIELDS]
        for key, value in items:
            if value is None:
                continue
            key = check_text(str(key), "a metadata key")
            if not isinstance(value, (str, int, float, bool)):
                raise InputError(
                    f"metadata field {key!r} must be a string, number or boolean",
                    fix="flatten nested values (metadata is a flat dict)",
                )
            if isinstance(value, str):
                check_text(value, f"metadata field {key!r}")
            else:
                check_number(value, f"metadata field {key!r}")
            metadata[key] = value
        lang = _opt_str(data, "lang")
        return cls(
            id=doc_id,
            text=text,
            title=title,
            url=_opt_str(data, "url"),
            lang=lang.lower() if lang else None,
            metadata=metadata,
        )

    def content_hash(self) -> str:
        """Hash of everything that ends up in the store; unchanged docs are skipped."""
        payload = json.dumps(
            [self.text, self.title, self.url, self.lang, sorted(self.metadata.items())],
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "title": self.title,
            "url": self.url,
            "lang": self.lang,
            "metadata": dict(self.metadata),
        }


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(
            f"field {key!r} must be a string, got {_json_type(value)}", fix=f"fix or drop {key!r}"
        )
    return check_text(value, f"field {key!r}")


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array",
             dict: "an object", str: "a string"}
    return names.get(type(value), type(value).__name__)


@dataclass(slots=True)
class Passage:
    """A piece of a document that fits the model window.

    ``start``/``end`` are character offsets into ``Document.text``; ``text`` is
    exactly ``doc.text[start:end]``. The title is prepended only when encoding
    (``encode_text``), never stored inside ``text``.
    """

    doc_id: str
    number: int
    text: str
    start: int
    end: int
    lang: str = "und"
    lang_confidence: float = 0.0
    title: str | None = None

    @property
    def point_id(self) -> str:
        return point_id(self.doc_id, self.number)

    @property
    def encode_text(self) -> str:
        if self.number == 0 and self.title:
            return f"{self.title}\n{self.text}"
        return self.text
