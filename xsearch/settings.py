"""The one settings object. Read once (``get_settings()``) and passed down.

Every field can be set by an environment variable with the ``XSEARCH_`` prefix
(``XSEARCH_HOME``, ``XSEARCH_QDRANT_URL`` ...) or in a ``.env`` file. Nothing
else in the code reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from xsearch.schemas import Balance, Mode

Variant = Literal["auto", "fp32", "int8", "fp16", "q4"]


def _split_csv(value: object) -> object:
    # Lists come from the environment as "a,b,c" (NoDecode skips JSON parsing).
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="XSEARCH_", env_file=".env", extra="ignore", validate_default=True
    )

    # --- where things live -------------------------------------------------
    home: Path = Field(Path("~/.xsearch"), description="root for bundles and the embedded store")
    debug: bool = Field(False, description="full tracebacks in the CLI")

    # --- model bundle and encoder ------------------------------------------
    default_bundle: str = Field(
        "multilingual-e5-small", description="bundle used when none is named"
    )
    variant: Variant = Field("auto", description="auto: int8 on CPU, fp16/fp32 on CUDA")
    threads: int = Field(0, ge=0, description="onnxruntime intra-op threads; 0 = all cores")
    # 512, not 8192: a batch's activations and attention scores then stay in the
    # cores' caches; measured side by side in bench/results/encoder.json (int8 vs
    # int8-b8192) and bench/results/batch_tokens.json (less CPU per passage).
    batch_tokens: int = Field(512, ge=64, description="token budget of one encoder batch")
    max_batch_size: int = Field(64, ge=1, description="texts in one encoder batch at most")
    # Off by default: the server encodes while its event loop, searches and
    # language detection run on the same cores, and the indexer overlaps
    # chunking and store writes with encoding; spinning threads steal those
    # cores (server CPU per request under concurrent queries: compare
    # `python -m bench.api_load` with and without `--server-env
    # XSEARCH_ENCODER_SPIN=true`). Spinning only pays for an encoder that has
    # the machine to itself (bench.encoder).
    encoder_spin: bool = Field(
        False,
        description="onnxruntime threads spin between ops: faster on idle cores, "
        "much slower when the cores are shared (the server, the indexer)",
    )

    # --- store ---------------------------------------------------------------
    qdrant_url: str | None = Field(None, description="Qdrant server URL; unset = embedded store")
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server")
    quantization: bool = Field(False, description="int8 scalar quantization (server store)")
    shard_number: int = Field(1, ge=1, description="shards per collection (server/cluster)")
    replication_factor: int = Field(1, ge=1, description="replicas per shard (cluster)")
    optimize_threshold: int = Field(
        20_000, ge=0, description="build the HNSW index after a bulk load above this many points"
    )
    hnsw_m: int = Field(16, ge=4, le=128, description="HNSW links per node (new collections)")
    hnsw_ef_construct: int = Field(
        100, ge=8, description="HNSW build breadth (new collections): higher = better, slower"
    )
    hnsw_ef: int = Field(128, ge=8, description="HNSW search breadth: higher = better recall")

    # --- ranking (defaults chosen by `xsearch eval qa --layout all`
    # and `xsearch eval pool`, see README "Every corpus shape") ---
    # fair (soft turns) + hybrid (query-language places reordered): within 0.01
    # of the best fixed setting on the parallel, disjoint and skewed XQuAD shapes
    # and on the Tatoeba pool, int8 and fp32, and above plain dense on all.
    balance: Balance = Field(
        "fair", description="language balance of results"
    )
    search_mode: Mode = Field("hybrid", description="dense or dense+lexical")
    hybrid_rrf_k: int = Field(
        5, ge=1, description="RRF constant of hybrid fusion: lower = top ranks count more"
    )
    hybrid_lexical_weight: float = Field(
        2.0,
        ge=0,
        description="lexical RRF weight when its top hit stands fully clear of the next "
        "(scaled by that margin; fused over the query's language only)",
    )
    group_translations: bool = Field(False, description="one hit per text with its translations")
    # issue 11: the default must hold on parallel, disjoint and skewed corpora
    # 2: the smallest of 0.25/0.5/1/2 within 0.01 of the best setting on every
    # corpus shape, chosen on en, de, ru, zh (bench/experiments/ranking_replay.py)
    fair_turn_penalty: float = Field(
        2.0,
        ge=0,
        description="balance=fair: each earlier hit of the same language costs this many "
        "spreads (standard deviations of the query's candidate scores); 0 = centred order, "
        "large = strict turns",
    )

    # --- API -------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    api_url: str | None = Field(None, description="a running xsearch API for CLI commands")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    api_keys_file: Path | None = None
    public_search: bool = Field(True, description="search without an API key")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_query_chars: int = 1000
    max_k: int = 100
    max_offset: int = 1000
    max_batch_docs: int = 256
    max_body_bytes: int = 20 * 1024 * 1024
    microbatch_wait_ms: float = Field(2.0, ge=0, description="wait to gather concurrent queries")
    microbatch_max: int = Field(32, ge=1, description="queries encoded together at most")
    # ~1.5 KB per query with the default model: 4,096 queries are ~6 MB
    query_cache_size: int = Field(
        4096, ge=0, description="vectors of the last N distinct queries kept (0: none)"
    )

    # --- writes (issue 12) -----------------------------------------------------
    # 2,000 passages of ~512 tokens is a ~4 MB document: far above a normal one,
    # and what a single write may cost before it is refused (a 10 MB one took
    # ~23 minutes on 2 cores).
    max_passages_per_doc: int = Field(
        2000, ge=1, description="a document that yields more passages is refused (413)"
    )
    write_deadline_s: float = Field(
        600.0,
        gt=0,
        description="an API write not written by then is abandoned, nothing of it stored (503)",
    )
    # A 5 MB document's chunking held the server's GIL in bursts: other writes took
    # 0.6-2.1 s instead of ~15 ms. Documents this large are chunked in worker processes.
    chunk_process_min_chars: int = Field(
        100_000, ge=0, description="API documents this long or longer are chunked in a worker"
    )
    chunk_workers: int = Field(
        1, ge=0, description="worker processes chunking large API documents (0: in-thread)"
    )
    # The API's passage batcher (api/passage_batch.py): a write of more than
    # write_call_chars characters puts a slice of write_slice_chars of them (at least
    # one passage) into an encoder call, taking turns with calls of the small writes
    # (each whole, up to write_call_chars in a call), so a small write waits for one
    # call, not for all of a large document. On 2 busy cores a 512-token passage of
    # the default model (~2,000 Latin characters) costs ~0.2 s, no less batched.
    write_slice_chars: int = Field(
        2_000, ge=1, description="characters of a large API write per encoder call"
    )
    write_call_chars: int = Field(
        16_000, ge=1,
        description="an API write of at most this many characters is encoded whole; "
        "a call of such writes holds at most this many",
    )
    # The language statistics (collection metadata, hundreds of floats per language)
    # were written to disk after every write: with 20 API writers of 10 documents,
    # ~6% of the server's CPU. Embedded collections keep them in memory and write
    # them at most this often (and when the store closes); a crash in between is
    # noticed (a "stats.pending" file) and the statistics recomputed from the points.
    stats_save_s: float = Field(
        5.0, ge=0,
        description="seconds between saves of the language statistics of embedded "
        "collections (0: after every write)",
    )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    # --- derived paths ---------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    def bundle_dir(self, name: str | None = None) -> Path:
        return self.models_dir / (name or self.default_bundle)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
