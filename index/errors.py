"""Domain errors, raised deep and translated at the edges (CLI, UI)."""
from __future__ import annotations


class QunzhongError(Exception):
    """Base class: its message is shown to the user as one line."""


class LoadError(QunzhongError):
    """A source file could not be read; `reason` says why in a few words."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class IndexMissingError(QunzhongError):
    """No index where one was expected."""


class IndexMismatchError(QunzhongError):
    """The index was built by another embedder or format version."""


class IndexCorruptError(QunzhongError):
    """The index on disk is damaged or inconsistent."""


class IndexBusyError(QunzhongError):
    """Another ingest holds the index lock."""


class QueryError(QunzhongError):
    """A query that cannot be served (empty, unusable)."""


class ConfigError(QunzhongError):
    """Bad settings or arguments (unknown embedder, missing path...)."""


class GenerationError(QunzhongError):
    """The language model gave no usable answer; `kind` says how (timeout, unreachable, http,
    refused, empty, malformed, lost, unsupported, check) and the caller falls back."""

    def __init__(self, message: str, kind: str = "malformed", detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.detail = detail
