"""The one redactor: every secret we hold, removed from text a server sent us.

A registry (or token server) may echo what it received: an ``Authorization``
header, a form field, a URL. Before any server-supplied text goes into an
error message, :meth:`Redactor.clean` replaces each secret we hold with
``***``, in every spelling a server could echo it: plain, ``user:pass``,
base64 (with and without padding, standard and URL-safe alphabets) and
percent-encoded. Secrets are added as they become known: options, auth
files, credential helpers, and the tokens token servers hand us.
"""

from __future__ import annotations

import base64
import threading
import urllib.parse

MASK = "***"


def _spellings(secret: str) -> set[str]:
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    url_b64 = base64.urlsafe_b64encode(raw).decode()
    return {secret, b64, b64.rstrip("="), url_b64, url_b64.rstrip("="),
            urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


class Redactor:
    """The secrets of one client; safe to share between threads."""

    def __init__(self) -> None:
        self._spellings: list[str] = []
        self._lock = threading.Lock()

    def add(self, secret: str | None, *, username: str | None = None) -> None:
        """Remember ``secret`` (and ``username:secret``, the Basic form) to redact."""
        if not secret:
            return
        forms = _spellings(secret)
        if username:
            forms |= _spellings(f"{username}:{secret}")
        with self._lock:
            known = set(self._spellings) | {f for f in forms if f}
            # Longest first, so that "user:pass" goes before "pass" inside it.
            self._spellings = sorted(known, key=len, reverse=True)

    def clean(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced by ``***``."""
        with self._lock:
            spellings = list(self._spellings)
        for form in spellings:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._spellings)} spellings)"
