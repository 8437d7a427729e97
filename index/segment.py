"""jieba's search-mode word segmentation (HMM off), without holding jieba's dictionary in memory.

jieba keeps a 500,000-entry prefix dictionary as a Python dict: 0.66 s to load in every process
and about 100 MB resident. Its algorithm only ever looks up substrings of the text it cuts, so
this module keeps the dictionary as sorted arrays, one per key length (about 10 MB, built once
from jieba itself and cached on disk), looks up all of a text's substrings at once, and runs
jieba's own code on a dictionary holding just the ones found. The words are jieba's words: the
tests compare both over the whole corpus.

The cache lives in $QUNZHONG_CACHE, else $XDG_CACHE_HOME/qunzhong, else ~/.cache/qunzhong. When
it cannot be written, segmentation falls back to jieba with its full dictionary.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import uuid
from pathlib import Path

import numpy as np

from index.domain import DOMAIN_TERMS

log = logging.getLogger(__name__)

DOMAIN_FREQ = 200_000  # high enough that jieba keeps every domain term whole
_lock = threading.Lock()
_setup_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def full_jieba():
    """jieba's default tokenizer with the domain terms added: the reference, and the source of
    the compact dictionary."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in DOMAIN_TERMS:
        jieba.add_word(term, freq=DOMAIN_FREQ)
    jieba.initialize()
    return jieba.dt


@functools.lru_cache(maxsize=1)
def dictionary_stamp() -> str:
    """What the segmentation depends on: jieba's version and the domain terms."""
    import jieba

    parts = (3, jieba.__version__, DOMAIN_FREQ, sorted(DOMAIN_TERMS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class CompactDictionary:
    """jieba's FREQ (word or word prefix -> frequency; 0 for a prefix only) as sorted arrays, one
    per key length: the short keys that almost every lookup hits sit in small arrays."""

    def __init__(self, keys: list[np.ndarray], freqs: list[np.ndarray], total: int):
        self.keys, self.freqs, self.total = keys, freqs, int(total)

    @classmethod
    def from_jieba(cls) -> "CompactDictionary":
        dt = full_jieba()
        by_len: dict[int, list[str]] = {}
        for key in dt.FREQ:
            by_len.setdefault(len(key), []).append(key)
        keys, freqs = [], []
        for n in range(1, max(by_len) + 1):
            words = sorted(by_len.get(n, ()))
            keys.append(np.array(words, dtype=f"<U{n}"))
            freqs.append(np.array([dt.FREQ[w] for w in words], dtype=np.int64))
        return cls(keys, freqs, dt.total)

    def save(self, path: Path) -> None:
        arrays = {f"keys{n}": k for n, k in enumerate(self.keys, 1)}
        arrays.update({f"freqs{n}": f for n, f in enumerate(self.freqs, 1)})
        arrays["total"] = np.array([self.total], dtype=np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # another process building the same file at once is harmless

    @classmethod
    def load(cls, path: Path) -> "CompactDictionary":
        with np.load(path, allow_pickle=False) as z:
            n = sum(1 for name in z.files if name.startswith("keys"))
            keys = [z[f"keys{i}"] for i in range(1, n + 1)]
            if any(k.dtype != np.dtype(f"<U{i}") for i, k in enumerate(keys, 1)):
                raise ValueError(f"{path} does not hold one array per key length")
            return cls(keys, [z[f"freqs{i}"] for i in range(1, n + 1)], int(z["total"][0]))

    def lookup(self, text: str) -> dict[str, int]:
        """Every substring of `text` that is a key, with its frequency.

        jieba's dictionary holds every prefix of every word, so a substring can only be a key if
        the one a character shorter is: each round looks up one length at the starts still
        matching. A "<U{n}" string is n UTF-32 code units, so a round's substrings are rows of
        code points viewed as strings, with no Python loop over them."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        alive = np.arange(len(codes))
        found: dict[str, int] = {}
        for n, (keys, freqs) in enumerate(zip(self.keys, self.freqs), 1):
            alive = alive[alive + n <= len(codes)]
            if not len(alive) or not len(keys):
                break
            subs = np.ascontiguousarray(codes[alive[:, None] + np.arange(n)]).view(f"<U{n}").ravel()
            pos = np.minimum(np.searchsorted(keys, subs), len(keys) - 1)
            hit = keys[pos] == subs
            found.update(zip(subs[hit].tolist(), freqs[pos[hit]].tolist()))
            alive = alive[hit]
        return found


def _cache_path() -> Path | None:
    base = os.environ.get("QUNZHONG_CACHE")
    if not base:
        try:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qunzhong"
        except RuntimeError:  # no home directory to be found
            return None
    return Path(base) / f"jieba-{dictionary_stamp()}.npz"


@functools.lru_cache(maxsize=1)
def _segmenter():
    """(compact dictionary, jieba's Tokenizer class to run on it), or (None, the full jieba
    tokenizer) when the compact form can be neither read nor written."""
    import jieba

    path = _cache_path()
    if path is None:
        log.warning("no cache directory (set QUNZHONG_CACHE); using jieba's own dictionary")
        return None, full_jieba()
    try:
        return CompactDictionary.load(path), jieba.Tokenizer
    except Exception as exc:  # missing, damaged or from another layout: it is only a cache
        log.debug("no usable compact dictionary at %s (%s)", path, exc)
    compact = CompactDictionary.from_jieba()
    try:
        compact.save(path)
    except OSError as exc:
        log.warning("cannot cache jieba's dictionary at %s (%s); using jieba's own", path, exc)
        return None, full_jieba()
    log.info("wrote jieba's dictionary in compact form to %s", path)
    for stale in path.parent.glob("jieba-*.npz"):  # built for another jieba or dictionary
        if stale != path:
            stale.unlink(missing_ok=True)
    return compact, jieba.Tokenizer


def cut_for_search(text: str) -> list[str]:
    """jieba.lcut_for_search(text, HMM=False), words for words."""
    with _setup_lock:  # the first questions of a new server arrive together: build once
        compact, jieba = _segmenter()
    if compact is None:
        with _lock:  # jieba's shared tokenizer is not thread-safe
            return jieba.lcut_for_search(text, HMM=False)
    tk = jieba()  # a tokenizer of our own per text: no shared state, no lock
    tk.FREQ, tk.total, tk.initialized = compact.lookup(text), compact.total, True
    return tk.lcut_for_search(text, HMM=False)
