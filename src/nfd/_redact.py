"""The one redactor: every secret we hold, removed from text a server sent us.

A registry (or token server) may echo what it received: an ``Authorization``
header, a form field, a URL. Before any server-supplied text goes into an
error message, :meth:`Redactor.clean` replaces each secret we hold with
``***``, in every spelling a server could echo it: plain, ``user:pass``,
base64 (with and without padding, standard and URL-safe alphabets) and
percent-encoded; and in every form a program prints it: Python's ``repr`` of the
text or of its bytes (escapes such as ``\n``), JSON-escaped, with its blanks
folded as a one-line error folds them, and line by line. A long secret cut short
(an error truncated mid-token, a line that starts inside one) is caught by its
first or last characters. Secrets are added as they become known: options, auth
files, credential helpers, kubeconfig tokens and the tokens token servers hand us.
"""

from __future__ import annotations

import json
import urllib.parse

# threading.Lock is _thread.allocate_lock (a documented stdlib module); importing
# threading itself costs a registry command's cold start about half a millisecond.
from _thread import allocate_lock

MASK = "***"
# A piece of a secret this long, at the start or end of one of its spellings, is
# masked on its own (a cut-short or wrapped secret); shorter secrets are masked whole.
PARTIAL_CHARACTERS = 8
MIN_PARTIAL_SECRET = 16


def _printed_forms(secret: str) -> set[str]:
    """``secret`` as programs print it: escaped (``repr`` of text and of bytes, JSON),
    blanks folded into single spaces, and each of its lines."""
    raw = secret.encode()
    forms = {secret, repr(secret)[1:-1], repr(raw)[2:-1], json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], " ".join(secret.split())}
    forms |= {line for line in secret.split() if len(line) >= PARTIAL_CHARACTERS}
    return {f for f in forms if f}


def _spellings(secret: str) -> set[str]:
    import base64  # only once there is a secret: an anonymous pull never needs it

    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    url_b64 = base64.urlsafe_b64encode(raw).decode()
    return {*_printed_forms(secret), b64, b64.rstrip("="), url_b64, url_b64.rstrip("="),
            urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def _mask_pieces(text: str, form: str) -> str:
    """Runs of ``form``'s first or last characters in ``text`` (a secret cut short)."""
    head, tail = form[:PARTIAL_CHARACTERS], form[-PARTIAL_CHARACTERS:]
    if head in text:
        at = text.find(head)
        while at != -1:
            end = at + PARTIAL_CHARACTERS
            while end < len(text) and end - at < len(form) and text[end] == form[end - at]:
                end += 1
            text = text[:at] + MASK + text[end:]
            at = text.find(head, at + len(MASK))
    if tail in text:
        at = text.find(tail)
        while at != -1:
            start, end = at, at + PARTIAL_CHARACTERS
            offset = len(form) - PARTIAL_CHARACTERS
            while start > 0 and offset > 0 and text[start - 1] == form[offset - 1]:
                start, offset = start - 1, offset - 1
            text = text[:start] + MASK + text[end:]
            at = text.find(tail, start + len(MASK))
    return text


class Redactor:
    """The secrets of one client; safe to share between threads."""

    def __init__(self) -> None:
        self._spellings: list[str] = []
        self._lock = allocate_lock()

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
        for form in spellings:
            if len(form) >= MIN_PARTIAL_SECRET:
                text = _mask_pieces(text, form)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._spellings)} spellings)"
