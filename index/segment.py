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


def dictionary_stamp() -> str:
    from importlib.metadata import version

    parts = (2, version("jieba"), DOMAIN_FREQ, sorted(DOMAIN_TERMS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class CompactDictionary:
    """jieba's FREQ (word or word prefix -> frequency; 0 for a prefix only) as one sorted array of
    the keys up to WIDTH characters (all but ~0.3% of them), and a dict of the longer ones."""

    WIDTH = 8

    def __init__(self, keys: np.ndarray, freqs: np.ndarray, longer: dict[str, int], total: int):
        self.keys, self.freqs, self.longer, self.total = keys, freqs, longer, int(total)

    @classmethod
    def from_jieba(cls) -> "CompactDictionary":
        dt = full_jieba()
        short = sorted(k for k in dt.FREQ if len(k) <= cls.WIDTH)
        keys = np.array(short, dtype=f"<U{cls.WIDTH}")
        freqs = np.array([dt.FREQ[k] for k in short], dtype=np.int64)
        return cls(keys, freqs, {k: f for k, f in dt.FREQ.items() if len(k) > cls.WIDTH}, dt.total)

    def save(self, path: Path) -> None:
        longer = sorted(self.longer)
        arrays = {"keys": self.keys, "freqs": self.freqs, "total": np.array([self.total], dtype=np.int64),
                  "longer_keys": np.array(longer, dtype=np.str_) if longer else np.zeros(0, "<U1"),
                  "longer_freqs": np.array([self.longer[k] for k in longer], dtype=np.int64)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # another process building the same file at once is harmless

    @classmethod
    def load(cls, path: Path) -> "CompactDictionary":
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            if keys.dtype != np.dtype(f"<U{cls.WIDTH}"):
                raise ValueError(f"{path} was written for another key width")
            longer = dict(zip(z["longer_keys"].tolist(), z["longer_freqs"].tolist()))
            return cls(keys, z["freqs"], longer, int(z["total"][0]))

    def lookup(self, text: str) -> dict[str, int]:
        """Every substring of `text` that is a key, with its frequency: all substrings of up to
        WIDTH characters in one sorted search (a "<U8" string is 8 UTF-32 code units, so they
        are rows of code points, zero-padded), then the rare longer ones from the dict."""
        w = self.WIDTH
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        if not len(codes):
            return {}
        padded = np.concatenate([codes, np.zeros(w, dtype=np.uint32)])
        windows = padded[np.arange(len(codes))[:, None] + np.arange(w)]           # (n, w)
        prefixes = windows[:, None, :] * np.tri(w, dtype=np.uint32)[None, :, :]  # (n, length, w)
        subs = np.ascontiguousarray(prefixes).view(f"<U{w}").ravel()
        pos = np.minimum(np.searchsorted(self.keys, subs), len(self.keys) - 1)
        hit = np.flatnonzero(self.keys[pos] == subs)
        found = dict(zip(subs[hit].tolist(), self.freqs[pos[hit]].tolist()))
        if self.longer:
            # jieba's dictionary holds every prefix of every word: a longer key can only start
            # where the WIDTH-character substring is a key, and grows while its prefixes are.
            for start in (hit[hit % w == w - 1] // w).tolist():
                for end in range(start + w + 1, len(text) + 1):
                    frag = text[start:end]
                    if frag not in self.longer:
                        break
                    found[frag] = self.longer[frag]
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
    return compact, jieba.Tokenizer


def cut_for_search(text: str) -> list[str]:
    """jieba.lcut_for_search(text, HMM=False), words for words."""
    compact, jieba = _segmenter()
    if compact is None:
        with _lock:  # jieba's shared tokenizer is not thread-safe
            return jieba.lcut_for_search(text, HMM=False)
    tk = jieba()  # a tokenizer of our own per text: no shared state, no lock
    tk.FREQ, tk.total, tk.initialized = compact.lookup(text), compact.total, True
    return tk.lcut_for_search(text, HMM=False)
