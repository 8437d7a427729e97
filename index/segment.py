"""jieba's search-mode word segmentation (HMM off), without holding jieba's dictionary in memory.

jieba keeps a 500,000-entry prefix dictionary as a Python dict: 0.66 s to load in every process
and about 100 MB resident. Its algorithm only ever looks up substrings of the text it cuts, so
this module keeps the dictionary as a MARISA trie (about 6 MB, built once from jieba itself and
cached on disk) and runs jieba's HMM-off search-mode algorithm over it: one trie walk per
character gives the word graph, then jieba's best route and its 2- and 3-character sub-words.
The words are jieba's words: the tests compare both over the whole corpus and odd text.

The cache lives in $QUNZHONG_CACHE, else $XDG_CACHE_HOME/qunzhong, else ~/.cache/qunzhong. When
it cannot be written, segmentation falls back to jieba with its full dictionary.

Why not rjieba (jieba-rs, `cut_for_search(text, False)` after `add_word` of the domain terms),
measured on this 2-core machine under load (median of 9 fresh processes, peak RSS as ru_maxrss):
it gives the same words (all 339 lines of the corpus, the test documents and the odd texts of
tests/test_segment.py identical; 26,002 of 26,002 words) and cuts a question in 48 us instead of
185 us right after an embedding, but its import builds its whole dictionary in every process:
import + domain terms + first cut cost 266 ms and +33 MB over a process that has numpy, against
54 ms and +14 MB for the cached trie here. `qunzhong search` starts in about 0.23 s, so it would
roughly double; the 0.14 ms saved per question is lost beside the ~10 ms query embedding.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import math
import os
import re
import threading
import uuid
from pathlib import Path

import numpy as np

from index.cache import cache_dir
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


# jieba 0.42's own patterns (jieba.re_han_default, re_skip_default, re_eng): blocks it segments,
# the whitespace it keeps whole, and the characters it runs together. Copied, not imported:
# importing jieba costs every process 27 ms and 9 MB for an HMM it is not asked to use here.
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_SKIP = re.compile("(\r\n|\\s)", re.U)
_LATIN = re.compile("[a-zA-Z0-9]", re.U)


@functools.lru_cache(maxsize=1)
def jieba_version() -> str:
    """jieba's __version__, read from its source without running it (see _BLOCK)."""
    spec = importlib.util.find_spec("jieba")
    try:
        found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", Path(spec.origin).read_text(encoding="utf-8"), re.M)
    except (AttributeError, TypeError, OSError, UnicodeDecodeError):
        found = None
    if found:
        return found.group(1)
    import jieba

    return jieba.__version__


@functools.lru_cache(maxsize=1)
def dictionary_stamp() -> str:
    """What the segmentation depends on: jieba's version and the domain terms."""
    parts = (3, jieba_version(), DOMAIN_FREQ, sorted(DOMAIN_TERMS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class CompactDictionary:
    """jieba's FREQ (word or word prefix -> frequency; 0 for a prefix only) as a MARISA trie of
    its keys and, by key id, each word's log probability as jieba computes it (log(freq) -
    log(total)); NOT_A_WORD for a key that is only a prefix. About 6 MB instead of about 100."""

    NOT_A_WORD = 1.0  # a log probability is never positive

    def __init__(self, trie, logp: np.ndarray, total: int, longest: int):
        if len(logp) != len(trie) or longest < 1 or total < 1:
            raise ValueError("the trie and the word probabilities do not belong together")
        self.trie, self.total, self.longest = trie, int(total), int(longest)
        self.logp = memoryview(np.ascontiguousarray(logp, dtype=np.float64))  # items as Python floats
        self.log_total = math.log(self.total)

    @classmethod
    def from_jieba(cls) -> "CompactDictionary":
        import marisa_trie

        dt = full_jieba()
        trie = marisa_trie.Trie(dt.FREQ)
        log_total = math.log(dt.total)
        logp = np.full(len(trie), cls.NOT_A_WORD)
        for key, freq in dt.FREQ.items():
            if freq:  # the same float operations as jieba's route, so the same route
                logp[trie.key_id(key)] = math.log(freq) - log_total
        return cls(trie, logp, dt.total, max(map(len, dt.FREQ)))

    def save(self, path: Path) -> None:
        arrays = {"trie": np.frombuffer(self.trie.tobytes(), dtype=np.uint8),
                  "logp": np.asarray(self.logp),
                  "sizes": np.array([self.total, self.longest], dtype=np.int64)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # another process building the same file at once is harmless

    @classmethod
    def load(cls, path: Path) -> "CompactDictionary":
        import marisa_trie

        with np.load(path, allow_pickle=False) as z:
            trie = marisa_trie.Trie().frombytes(z["trie"].tobytes())
            total, longest = z["sizes"].tolist()
            return cls(trie, z["logp"], total, longest)

    def is_word(self, text: str) -> bool:
        key_id = self.trie.get(text)
        return key_id is not None and self.logp[key_id] <= 0.0

    def cut_for_search(self, text: str) -> list[str]:
        """jieba's `lcut_for_search(text, HMM=False)` (jieba 0.42's `cut` and `__cut_DAG_NO_HMM`),
        with the word graph read from the trie."""
        out: list[str] = []
        for block in _BLOCK.split(text):
            if not block:
                continue
            if _BLOCK.match(block):
                self._cut_block(block, out)
            else:  # whitespace runs whole, anything else one character at a time
                for piece in _SKIP.split(block):
                    if _SKIP.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _cut_block(self, block: str, out: list[str]) -> None:
        n, prefixes, logp, longest = len(block), self.trie.iter_prefixes_with_ids, self.logp, self.longest
        # jieba's route, from the end backwards: the most probable split of block[start:] is the
        # word starting at `start` (or the lone character, frequency 1) that maximises (its log
        # probability + that of the best split after it, its last character).
        score = [0.0] * (n + 1)
        last = list(range(n))
        for start in range(n - 1, -1, -1):
            best = None
            for key, key_id in prefixes(block[start:start + longest]):
                p = logp[key_id]
                if p <= 0.0:  # NOT_A_WORD: only a prefix of longer words
                    end = start + len(key) - 1
                    candidate = (p + score[end + 1], end)
                    if best is None or candidate > best:
                        best = candidate
            if best is None:
                score[start] = score[start + 1] - self.log_total
            else:
                score[start], last[start] = best
        start, latin = 0, ""
        while start < n:
            end = last[start] + 1
            word = block[start:end]
            if len(word) == 1 and _LATIN.match(word):  # single letters and digits run together
                latin += word
            else:
                if latin:
                    self._with_subwords(latin, out)
                    latin = ""
                self._with_subwords(word, out)
            start = end
        if latin:
            self._with_subwords(latin, out)

    def _with_subwords(self, word: str, out: list[str]) -> None:
        """Search mode: a word's 2- and then 3-character sub-words that are words, then the word."""
        if len(word) > 2:
            out.extend(word[i:i + 2] for i in range(len(word) - 1) if self.is_word(word[i:i + 2]))
            if len(word) > 3:
                out.extend(word[i:i + 3] for i in range(len(word) - 2) if self.is_word(word[i:i + 3]))
        out.append(word)


def _cache_path() -> Path | None:
    base = cache_dir()
    return None if base is None else base / f"jieba-trie-{dictionary_stamp()}.npz"


@functools.lru_cache(maxsize=1)
def _segmenter():
    """The compact dictionary, or None when it can be neither read nor written."""
    path = _cache_path()
    if path is None:
        log.warning("no cache directory (set QUNZHONG_CACHE); using jieba's own dictionary")
        return None
    try:
        return CompactDictionary.load(path)
    except Exception as exc:  # missing, damaged or from another layout: it is only a cache
        log.debug("no usable compact dictionary at %s (%s)", path, exc)
    compact = CompactDictionary.from_jieba()
    try:
        compact.save(path)
    except OSError as exc:
        log.warning("cannot cache jieba's dictionary at %s (%s); using jieba's own", path, exc)
        return None
    log.info("wrote jieba's dictionary in compact form to %s", path)
    for stale in path.parent.glob("jieba-*.npz"):  # built for another jieba, dictionary or layout
        if stale != path:
            stale.unlink(missing_ok=True)
    return compact


def cut_for_search(text: str) -> list[str]:
    """jieba.lcut_for_search(text, HMM=False), words for words."""
    with _setup_lock:  # the first questions of a new server arrive together: build once
        compact = _segmenter()
    if compact is None:
        with _lock:  # jieba's shared tokenizer is not thread-safe
            return full_jieba().lcut_for_search(text, HMM=False)
    return compact.cut_for_search(text)


def is_word(text: str) -> bool:
    """Is `text` a word of the segmenter's dictionary (jieba's, with the domain terms)?"""
    with _setup_lock:
        compact = _segmenter()
    if compact is None:
        return bool(full_jieba().FREQ.get(text))
    return compact.is_word(text)
