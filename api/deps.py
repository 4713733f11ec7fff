"""What routes receive: the app state (engine, searcher, batcher, metrics) and access checks.

Everything heavy is built once in the app's lifespan and stored on one
``ApiState``; routes get it through ``Annotated`` dependencies, never globals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from xsearch.api.metrics import Metrics
from xsearch.api.microbatch import MicroBatcher
from xsearch.api.passage_batch import PassageBatcher
from xsearch.api.security import KEY_HEADER, KeyRing

from xsearch.errors import NotReady
from xsearch.settings import Settings
from xsearch.validation import COLLECTION_NAME_PATTERN, check_json

if TYPE_CHECKING:
    from xsearch.indexing import IndexingService
    from xsearch.runtime import Engine
    from xsearch.search import Searcher

# The store's own pattern (xsearch.validation): a bad name is refused by
# validation before it reaches the store.
COLLECTION_PATTERN = COLLECTION_NAME_PATTERN


@dataclass
class ApiState:
    settings: Settings
    keys: KeyRing
    metrics: Metrics
    engine: Engine | None = None
    searcher: Searcher | None = None
    batcher: MicroBatcher | None = None
    indexer: IndexingService | None = None
    # Concurrent writers' passages share encoder calls (made with ``indexer``).
    passages: PassageBatcher | None = None
    # The read-compare-write of writes to ONE collection is serialised: indexing
    # decides "new / changed / unchanged" from the stored state, and two concurrent
    # batches touching the same document must not interleave. Chunking and encoding
    # run before the lock, beside other writers (issue 14). Other collections
    # proceed (issue 12: one large document held every writer behind a global lock).
    write_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def write_lock(self, collection: str) -> asyncio.Lock:
        """The lock of one collection (created on first use; the event loop is
        single-threaded, so get-or-create cannot race)."""
        lock = self.write_locks.get(collection)
        if lock is None:
            lock = self.write_locks[collection] = asyncio.Lock()
        return lock

    def ready_engine(self) -> Engine:
        if self.engine is None:
            raise NotReady(
                "the search engine is not open (the server is starting or stopping)",
                fix="retry in a few seconds; GET /ready says when it is up",
            )
        return self.engine


def get_state(request: Request) -> ApiState:
    return request.app.state.xsearch


StateDep = Annotated[ApiState, Depends(get_state)]

CollectionName = Annotated[
    str,
    Path(
        pattern=COLLECTION_PATTERN,
        description="collection name: 1-64 letters, digits, '-' or '_'",
        examples=["news"],
    ),
]

_key_header = APIKeyHeader(
    name=KEY_HEADER, auto_error=False, description="API key (when the server has keys)"
)
_bearer = HTTPBearer(auto_error=False, description="the API key as a bearer token")
KeyHeader = Annotated[str | None, Security(_key_header)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


async def require_read(state: StateDep, key: KeyHeader, bearer: Bearer) -> None:
    """Search and reads: open when search is public (the default), else a key."""
    if state.settings.public_search or not state.keys.enabled:
        return
    state.keys.check(key, bearer.credentials if bearer else None)


async def require_write(state: StateDep, key: KeyHeader, bearer: Bearer) -> None:
    """Writes need a key whenever keys are configured."""
    if not state.keys.enabled:
        return
    state.keys.check(key, bearer.credentials if bearer else None)


ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)


async def check_body(request: Request) -> None:
    """The whole JSON body, checked before the route's model sees any of it.

    Lone surrogates, NaN/Infinity and integers beyond 64 bits are valid to
    Python's json but poison later stages (the tokenizer, hashing, the store):
    one of them anywhere is a 422 naming its path, before anything is queued
    or written. FastAPI has already parsed the body; ``request.json()`` returns
    that parse (cached), it does not parse again.
    """
    try:
        body = await request.json()
    except ValueError:  # not JSON (or no body): the route's own validation answers
        return
    check_json(body)


# After the access check (listed after it), so a client without a key learns nothing.
CheckedBody = Depends(check_body)
