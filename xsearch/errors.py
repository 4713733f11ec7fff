"""One exception tree. Every message says what went wrong *and* what to do.

The CLI prints ``str(err)`` on one line (traceback with ``XSEARCH_DEBUG=1``)
and exits with ``err.exit_code``; the API answers ``err.status_code`` with the
body ``{"error": err.code, "detail": str(err)}``.
"""

from __future__ import annotations


class XSearchError(Exception):
    """Root of every error xsearch raises on purpose."""

    code = "xsearch_error"
    status_code = 500
    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message}: {fix}" if fix else message)


# --- configuration ---------------------------------------------------------
class ConfigError(XSearchError):
    code = "config_error"
    exit_code = 2


# --- model bundles and encoder ------------------------------------------
class BundleError(XSearchError):
    code = "bundle_error"


class BundleNotFound(BundleError):
    code = "bundle_not_found"
    status_code = 503


class BundleCorrupt(BundleError):
    code = "bundle_corrupt"
    status_code = 503


class ModelSourceError(BundleError):
    code = "model_source_error"
    exit_code = 2


class ParityError(BundleError):
    code = "parity_failed"


class EncoderError(XSearchError):
    code = "encoder_error"


# --- store ---------------------------------------------------------------
class StoreError(XSearchError):
    code = "store_error"
    status_code = 503


class StoreLocked(StoreError):
    code = "store_locked"
    status_code = 409


class CollectionNotFound(StoreError):
    code = "collection_not_found"
    status_code = 404


class DocumentNotFound(StoreError):
    code = "document_not_found"
    status_code = 404


class BundleMismatch(StoreError):
    code = "bundle_mismatch"
    status_code = 409


# --- input -----------------------------------------------------------------
class InputError(XSearchError):
    """Bad input from a user: a document, a file line, a request field."""

    code = "invalid_input"
    status_code = 422
    exit_code = 2


class LimitExceeded(InputError):
    code = "limit_exceeded"
    status_code = 413


class NotReady(XSearchError):
    """The service is starting or stopping: the bundle or the store is not open."""

    code = "not_ready"
    status_code = 503


class AuthError(XSearchError):
    code = "unauthorized"
    status_code = 401
    exit_code = 2


# --- writes (issue 12) -------------------------------------------------------
class WriteDeadline(XSearchError):
    """A write ran past ``Settings.write_deadline_s``; nothing of it was stored."""

    code = "write_deadline"
    status_code = 503


class ChunkWorkerCrashed(XSearchError):
    """The worker process chunking a document died, twice (xsearch.text.chunk_pool)."""

    code = "chunk_worker_crashed"
    status_code = 503
