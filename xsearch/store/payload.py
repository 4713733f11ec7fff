"""The payload of a stored point: one passage of one document.

Written by the indexing service, read by search (hits, snippets), by
``get_document`` and by the store (payload indexes, filters, document state).
``Payload`` names every key and its type; the constants are the keys the store
itself uses, so a renamed field cannot leave one reader behind.
"""

from __future__ import annotations

from typing import Final, TypedDict

from xsearch.documents import MetaValue


class Payload(TypedDict):
    doc_id: str
    passage: int  # passage number in the document, from 0
    n_passages: int  # passages of the whole document (on every passage)
    lang: str
    lang_conf: float
    title: str | None
    url: str | None
    text: str  # the passage text
    start: int  # character offsets of the passage in the document text
    end: int
    meta: dict[str, MetaValue]  # the document's metadata (filters: meta.<key>)
    content_hash: str  # of the whole document: unchanged documents are skipped


DOC_ID: Final = "doc_id"
PASSAGE: Final = "passage"
N_PASSAGES: Final = "n_passages"
LANG: Final = "lang"
META: Final = "meta"
CONTENT_HASH: Final = "content_hash"

# Payload indexes every collection gets (both backends).
KEYWORD_FIELDS: Final = (DOC_ID, LANG)
INTEGER_FIELDS: Final = (PASSAGE,)
# What "is this document new, changed or unchanged" reads (from passage 0).
STATE_FIELDS: Final = [DOC_ID, CONTENT_HASH, N_PASSAGES]
