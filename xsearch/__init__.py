"""xsearch: cross-lingual semantic search (multilingual ONNX encoder + Qdrant).

    import xsearch

    with xsearch.Engine(collection="news") as engine:      # in this process
        engine.add([{"id": "1", "text": "Le chat dort sur le canapé."}])
        hits = engine.search("where is the cat sleeping?", k=3).hits

    client = xsearch.Client("http://localhost:8000", collection="news")  # same, over HTTP

Importing this package must stay cheap: no torch, no transformers, no FastAPI,
no onnxruntime. The public names below load their module on first access.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access, PEP 562)
_LAZY: dict[str, str] = {
    "Engine": "xsearch.runtime",
    "Client": "xsearch.client",
    "AsyncClient": "xsearch.client",
    "SearchEngine": "xsearch.library",
    "Document": "xsearch.documents",
    "Settings": "xsearch.settings",
    "XSearchError": "xsearch.errors",
    "SearchResponse": "xsearch.schemas",
    "SearchHit": "xsearch.schemas",
    "IndexResponse": "xsearch.schemas",
    "StoredDocument": "xsearch.schemas",
    "CollectionInfo": "xsearch.schemas",
    "CollectionSummary": "xsearch.schemas",
}

__all__ = [  # spelled out (not list(_LAZY)) so that linters and type checkers read it
    "__version__",
    "AsyncClient",
    "Client",
    "CollectionInfo",
    "CollectionSummary",
    "Document",
    "Engine",
    "IndexResponse",
    "SearchEngine",
    "SearchHit",
    "SearchResponse",
    "Settings",
    "StoredDocument",
    "XSearchError",
]

if TYPE_CHECKING:
    from xsearch.client import AsyncClient, Client
    from xsearch.documents import Document
    from xsearch.errors import XSearchError
    from xsearch.library import SearchEngine
    from xsearch.runtime import Engine
    from xsearch.schemas import (
        CollectionInfo,
        CollectionSummary,
        IndexResponse,
        SearchHit,
        SearchResponse,
        StoredDocument,
    )
    from xsearch.settings import Settings


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'xsearch' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
