"""The webhook's one way to write a log record: text lines or JSON lines, always sanitized.

Pod names, namespaces, image references, registry and API server text reach
the log; whoever creates pods chooses them. Every message and field value goes
through :func:`nfd._text.log_field` here (control characters, C1 and bidi
controls escaped, newlines as ``\\n``), so no record can forge another line or
drive a terminal. Nothing else in the webhook prints (a test scans for it).

``text`` (the default)::

    nfd compat webhook serve: review outcome=denied kind=Pod object="ns/name" ...

``json``: one object per line, as log collectors for admission controllers
expect (``ts`` in RFC 3339 UTC, ``level``, ``msg``, then the fields)::

    {"ts":"2026-12-05T16:00:00.000Z","level":"info","msg":"review","outcome":"denied",...}
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Literal, Protocol, TextIO

from nfd._text import log_field

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
Field = str | int | float | bool | None
PREFIX = "nfd compat webhook serve"


class Log(Protocol):
    """A log: ``log(message, key=value, ...)``; the level is ``info`` unless given."""

    def __call__(self, message: str, /, *, level: str = "info", **fields: Field) -> None: ...


def _clean(value: Field) -> Field:
    return log_field(value) if isinstance(value, str) else value


def _text_value(value: Field) -> str:
    text = str(_clean(value))
    if text and all(ch.isalnum() or ch in "-_./:@" for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Logger:
    """Writes records to ``stream`` (stderr) in one format; thread-safe, flushed per record."""

    def __init__(self, log_format: LogFormat = "text", stream: TextIO | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"log format {log_format!r}: one of {', '.join(LOG_FORMATS)}")
        self.format = log_format
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()

    def render(self, message: str, level: str = "info", **fields: Field) -> str:
        """The record as one line (no newline at the end)."""
        if self.format == "json":
            now = self._clock()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
                f".{int(now * 1000) % 1000:03d}Z"
            record: dict[str, Field] = {"ts": stamp, "level": level, "msg": log_field(message)}
            record.update((key, _clean(value)) for key, value in fields.items()
                          if key not in record)
            return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
        parts = [f"{PREFIX}: " + (f"{level}: " if level != "info" else "") + log_field(message)]
        parts += [f"{key}={_text_value(value)}" for key, value in fields.items()
                  if value is not None]
        return " ".join(parts)

    def __call__(self, message: str, /, *, level: str = "info", **fields: Field) -> None:
        line = self.render(message, level, **fields) + "\n"
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(line)
            stream.flush()
