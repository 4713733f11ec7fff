"""API keys: loaded from the settings (and a file), compared in constant time, never logged.

Keys are kept only as SHA-256 digests: comparing two digests of equal length
with ``hmac.compare_digest`` leaks neither a key's content nor its length, and
the process never holds a printable copy that could end up in a log line.

Keys are compared as UTF-8 bytes. HTTP headers reach the app decoded as
Latin-1 (Starlette's choice: every byte maps to one character), so the header
value is turned back into the bytes the client sent before hashing: a key
"clé" configured on the server matches a client sending it as UTF-8 (what
curl, httpx and browsers send), and no longer its Latin-1 spelling.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from xsearch.errors import AuthError, ConfigError
from xsearch.settings import Settings

KEY_HEADER = "X-API-Key"


def _digest(key: str | bytes) -> bytes:
    raw = key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key
    return hashlib.sha256(raw).digest()


def header_bytes(value: str) -> bytes:
    """The bytes a client sent in a header, from Starlette's Latin-1 decoding of them."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from a header (a caller's own str): its UTF-8 form
        return value.encode("utf-8", "surrogatepass")


def read_keys_file(path: Path) -> list[str]:
    """One key per line; blank lines and lines starting with '#' are ignored."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the API keys file {path}: {exc.strerror or exc}",
            fix="fix XSEARCH_API_KEYS_FILE (one key per line) or unset it",
        ) from exc
    return [s for line in lines if (s := line.strip()) and not s.startswith("#")]


class KeyRing:
    """The set of accepted API keys (as digests)."""

    def __init__(self, keys: list[str]) -> None:
        self._digests = [_digest(k) for k in keys if k]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        keys = [k.get_secret_value().strip() for k in settings.api_keys]
        if settings.api_keys_file is not None:
            keys += read_keys_file(settings.api_keys_file)
        ring = cls([k for k in keys if k])
        if not settings.public_search and not ring.enabled:
            raise ConfigError(
                "XSEARCH_PUBLIC_SEARCH is false but no API key is configured, "
                "so nobody could search",
                fix="set XSEARCH_API_KEYS (comma-separated) or XSEARCH_API_KEYS_FILE",
            )
        return ring

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def matches(self, presented: str | bytes) -> bool:
        """True when ``presented`` is one of the keys; time independent of which one.

        A str is a key as text (its UTF-8 bytes are compared); header values go
        through :func:`header_bytes` first (``check`` does that).
        """
        d = _digest(presented)
        ok = False
        for known in self._digests:  # no early exit: every key is compared
            ok |= hmac.compare_digest(d, known)
        return ok

    def check(self, header_key: str | None, bearer: str | None) -> None:
        """Raise AuthError unless one of the presented credentials is a known key."""
        presented = header_key or bearer
        if not presented:
            raise AuthError(
                "this endpoint needs an API key",
                fix=f"send it in the {KEY_HEADER} header or as 'Authorization: Bearer <key>'",
            )
        if not self.matches(header_bytes(presented)):
            raise AuthError(
                "the API key is not valid",
                fix="check the key against XSEARCH_API_KEYS / XSEARCH_API_KEYS_FILE on the server",
            )
