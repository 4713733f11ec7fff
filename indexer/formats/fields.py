"""Mapping user-named fields (--id-field, --text-field, ...) onto Document fields."""

from __future__ import annotations

from typing import Any

from xsearch.indexer.inputs import SourceOptions

from xsearch.documents import Document
from xsearch.errors import InputError


def field_map(options: SourceOptions) -> dict[str, str]:
    """Document field -> name in the input, for the fields the user renamed."""
    named = {
        "id": options.id_field,
        "text": options.text_field,
        "title": options.title_field,
        "lang": options.lang_field,
        "url": options.url_field,
    }
    return {std: custom for std, custom in named.items() if std != custom}


def to_document(obj: Any, options: SourceOptions, renamed: dict[str, str]) -> Document:
    """Build a document from a JSON object or CSV row dict; raises InputError with the reason."""
    if isinstance(obj, dict) and renamed:
        obj = dict(obj)
        displaced: dict[str, Any] = {}
        for std in renamed:
            # The input's own field of the standard name (e.g. "text" when the text
            # comes from --text-field body) is kept, as metadata, not dropped.
            if std in obj:
                displaced[std] = obj.pop(std)
        for std, custom in renamed.items():
            if custom in obj:
                obj[std] = obj.pop(custom)
            elif custom in displaced:  # e.g. --id-field title --title-field id
                obj[std] = displaced.pop(custom)
        meta = obj.get("metadata")
        if displaced and (meta is None or isinstance(meta, dict)):
            obj["metadata"] = {**(meta or {}), **displaced}
    if isinstance(obj, dict) and obj.get("text") is None:
        name = options.text_field
        raise InputError(
            f"missing text field {name!r}",
            fix="give every document that field, or choose another one with --text-field",
        )
    return Document.from_dict(obj)


def doc_id_of(obj: Any, options: SourceOptions) -> str | None:
    """The id of a rejected record, when it has one (for the rejects file)."""
    if isinstance(obj, dict):
        value = obj.get(options.id_field)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None
