"""Hybrid retrieval: dense (FAISS, sentence units) and lexical (BM25 on words and on character
bigrams) fused; follow-up questions read in their conversation; no repeats in a result list."""
from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assistant.query import clean_history, clean_query, content_free, embedding_text, followup_strength
from assistant.relevance import RelevanceGate
from index.crosslingual import QueryTranslator, dictionary_sample, is_english, language_shift
from index.embedders import Embedder
from index.lexical import BM25, TOKENIZERS, TermCounts, clear_term_cache
from index.schema import Hit, Passage
from index.settings import Settings
from index.store import IndexData
from index.units import WINDOW, article_key, cited_articles, names_a_law, norm_windows, normalise

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Signals:
    """Per-passage evidence for one question."""

    dense: np.ndarray     # best unit cosine per passage
    words: np.ndarray     # BM25 on jieba words
    bigrams: np.ndarray   # BM25 on character bigrams
    coverage: float       # how much of the question the corpus vocabulary knows (0..1)
    vector: np.ndarray | None = None  # the query vector the dense side used
    english: bool = False  # `dense` was measured in the English frame (ranking only)
    characters: np.ndarray | None = None  # BM25 on single characters of an English question's translation


@dataclass(frozen=True)
class Frame:
    """Where English questions are compared (`Retriever.english_frame`): the units' mean and top
    principal directions removed. Scores need no second copy of the units: for a question q in
    the frame (centred, the directions projected out, unit length) a unit u scores
    (u - mean) . q / |frame(u)|, since q is orthogonal to what the projection removes."""

    mean: np.ndarray        # (dim,) the units' mean
    top: np.ndarray         # (components, dim) their principal directions, orthonormal
    norms: np.ndarray       # (units,) each unit's length in the frame
    hub: np.ndarray         # (units,) the hub correction measured in the frame

    def question(self, vec: np.ndarray) -> np.ndarray:
        """A question vector (or rows of them) in the frame, unit length."""
        return _l2_normalised(self.project(vec)).astype(np.float32)

    def project(self, x: np.ndarray) -> np.ndarray:
        x = x - self.mean
        return x - (x @ self.top.T) @ self.top


@dataclass(frozen=True)
class Retrieval:
    """One question's retrieval, computed once: what answers, relevance and the UI consume."""

    query: str                  # as cleaned
    history: tuple[str, ...]    # as cleaned
    hits: list[Hit]
    vector: np.ndarray          # the query vector (language-neutral, with its conversation)
    background: float           # the relevance vector's similarity to general vocabulary
    best: float | None = None   # a follow-up: the best passage for the whole conversation
    cited: int = 0              # the first `cited` hits are articles the question cites by number
    absent: tuple[tuple[int, int], ...] = ()  # cited articles the law it is about does not have

    @property
    def margin(self) -> float:
        """How far the best passage beats the background; -inf when nothing was found. A
        follow-up that points back is judged in its conversation (the question and its earlier
        turns weighed alike): "那之后呢?" is about what was asked before it. Any other question
        is judged by the vector that ranked it (`Retriever.search`)."""
        if not self.hits:
            return float("-inf")
        best = self.best if self.best is not None else max(h.dense for h in self.hits)
        return best - self.background

    def relevant(self, floor: float) -> bool:
        """Whether the documents answer the question: its margin clears the floor, or it cites an
        article they hold by number ("What does Article 12 say?" is about that article, however
        little its words say)."""
        return bool(self.cited) or self.margin >= floor


class Retriever:
    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings | None = None):
        self.data = data
        self.embedder = embedder
        self.settings = settings or Settings.for_index(data.manifest.get("settings"))
        self.passages: list[Passage] = data.passages
        lexicon = data.lexicon() or {}  # term counts stored by ingest; an older index lacks some
        texts = None
        for field, tokenizer in TOKENIZERS.items():
            if field not in lexicon:
                texts = texts if texts is not None else [p.context for p in self.passages]
                lexicon[field] = TermCounts.of(texts, tokenizer)
        self.words = BM25(counts=lexicon["words"], tokenizer=TOKENIZERS["words"])
        self.bigrams = BM25(counts=lexicon["bigrams"], tokenizer=TOKENIZERS["bigrams"])
        self.characters = BM25(counts=lexicon["characters"], tokenizer=TOKENIZERS["characters"])
        self._units = np.asarray(data.vectors(), dtype=np.float32)
        self._bounds = data.unit_bounds  # passage i: unit rows _bounds[i]:_bounds[i + 1]
        self._normalised: dict[int, tuple[str, set[int] | None]] = {}  # text, fingerprints
        self._windows: dict[int, set[str]] = {}
        self._vectors: dict[str, np.ndarray] = {}  # question text -> its vector (bounded)
        self._translations: dict[str, object] = {}  # English question -> its translation (bounded)
        self._vectors_lock = threading.Lock()
        self._hubness: np.ndarray | None = None  # per unit, once (the service: before it serves)
        self._frame: Frame | None = None  # for English questions, once (likewise)
        self.translator = QueryTranslator(self.words.known, use_thesaurus=self.settings.thesaurus)
        self._english = [i for i, p in enumerate(self.passages) if is_english(p.text)]
        if self._english:
            self._neutralise_english_units()
        self.gate = RelevanceGate(embedder, self.settings.background_top)
        self._articles: dict[str, dict[tuple[int, int], list[int]]] = {}  # law -> article -> passages
        for i, p in enumerate(self.passages):
            heads = p.headings
            key = article_key(heads[-1]) if heads else None
            if key is not None:
                self._articles.setdefault(p.doc, {}).setdefault(key, []).append(i)
        _live.add(self)

    @staticmethod
    def clear_caches() -> None:
        """Forget every question seen so far (query vectors, query terms): benchmarks time each
        question as if it were new."""
        for retriever in list(_live):
            retriever._vectors.clear()
            retriever._translations.clear()
        clear_term_cache()

    def _neutralise_english_units(self) -> None:
        """Move the units of English passages to where Chinese text of the same meaning would
        be (see index.crosslingual.language_shift), so that an English question prefers the
        passage that answers it, not the one that happens to be in English."""
        shift = language_shift(self.embedder)[1]
        self._units = self._units.copy()
        for pid in self._english:
            rows = slice(self._bounds[pid], self._bounds[pid + 1])
            self._units[rows] = _l2_normalised(self._units[rows] - shift)

    def _embed_query(self, text: str) -> np.ndarray:
        vec = self._vectors.get(text)
        if vec is None:
            vec = self.embedder.embed_queries([text])[0]
            with self._vectors_lock:
                if len(self._vectors) >= 1024:
                    self._vectors.clear()
                self._vectors[text] = vec
        return vec

    def turn_vector(self, text: str) -> np.ndarray:
        """One question's own vector in a language-neutral frame: an English question is moved
        by the language shift and joined by the embedding of its dictionary translation."""
        text = embedding_text(text)
        vec = self._embed_query(text)
        if not is_english(text):
            return vec
        vec = _l2_normalised(vec - language_shift(self.embedder)[0])
        pseudo = self.translation(text, vec).pseudo
        if pseudo:
            vec = _l2_normalised(vec + self.settings.translation_weight * self._embed_query(pseudo))
        return vec

    def translation(self, text: str, vec: np.ndarray | None = None):
        """An English question's dictionary translation, its word choices informed by the
        passages its own (shifted) vector finds first. Cached with the question's vector."""
        text = embedding_text(text)
        cached = self._translations.get(text)
        if cached is not None:
            return cached
        if vec is None:
            vec = _l2_normalised(self._embed_query(text) - language_shift(self.embedder)[0])
        dense = self.dense_scores(vec, english=True)
        n = min(self.settings.feedback_passages, len(dense))
        top = np.sort(np.argpartition(-dense, n - 1)[:n]) if n else np.zeros(0, dtype=np.int64)
        out = self.translator.translate(text, lambda term: self.words.share_in(term, top))
        with self._vectors_lock:
            if len(self._translations) >= 1024:
                self._translations.clear()
            self._translations[text] = out
        return out

    def query_vector(self, query: str, history: Sequence[str] = ()) -> tuple[np.ndarray, float]:
        """The query's vector, pulled toward earlier turns when it reads as a follow-up.

        The earlier turns count as the mean of their own vectors, each embedded once when it was
        asked (cached), not as one new text: a follow-up costs one embedding however long the
        conversation. (On dev question pairs that mean has cosine 0.98-0.99 with the embedding
        of the joined turns.)"""
        vec = self.turn_vector(query)
        if not history:
            return vec, 0.0
        weight = self.settings.history_weight * followup_strength(query, self.settings.followup_short, self.settings.followup_weak)
        return _l2_normalised(vec + weight * self._past_vector(history)), weight

    def _past_vector(self, history: Sequence[str]) -> np.ndarray:
        turns = [self.turn_vector(turn) for turn in history]
        return turns[0] if len(turns) == 1 else _l2_normalised(np.sum(turns, axis=0))

    def dense_scores(self, vec: np.ndarray, english: bool = False) -> np.ndarray:
        """Each passage's best unit cosine, corrected for hubness (see `hubness`); for an
        English question (`english`), measured in the English frame (see `english_frame`)."""
        frame = self.english_frame() if english else None
        if frame is None:
            hub, offset, norms = self.hubness(), 0.0, None
        else:
            vec = frame.question(vec)
            hub, offset, norms = frame.hub, float(frame.mean @ vec), frame.norms
        if len(self._units) <= self.settings.exact_units:
            sims = self._units @ vec
            if norms is not None:
                sims -= offset
                sims /= norms
            sims -= hub
            return np.maximum.reduceat(sims, self._bounds[:-1])
        n = min(len(self._units), self.settings.candidates * 8)
        sims, ids = self.data.faiss_index.search(vec[None, :].astype(np.float32), n)
        sims, ids = sims[0], ids[0]
        if norms is not None:  # the candidates are the nearest by u . q, rescored in the frame
            sims = (sims - offset) / norms[ids]
        sims = sims - hub[ids]
        out = np.full(len(self.passages), float(sims.min()), dtype=np.float32)
        owners = np.searchsorted(self._bounds, ids, side="right") - 1
        np.maximum.at(out, owners, sims)
        return out

    def english_frame(self) -> Frame | None:
        """Where an English question is ranked: the index's units centred and their first
        `english_components` principal directions removed, as in the removal of the dominant
        directions from an embedding space (Mu & Viswanath 2018, "All-but-the-top") and of the
        language-identity subspace from multilingual sentence vectors (Yang et al. 2021): the
        hypothesis is that an English question moved by the language shift still differs from
        Chinese text along the directions every unit shares. The frame ranks and chooses the
        translation; the relevance floor and the cards keep the plain cosine. None when switched
        off (the default: the tuning sets gained, the sets not tuned on did not; docs/retrieval.md,
        stop 18). Computed once per index, like `hubness`."""
        if not self.settings.english_components or len(self._units) < 2:
            return None
        if self._frame is None:
            with self._vectors_lock:
                if self._frame is None:
                    self._frame = self._compute_frame()
        return self._frame

    def _compute_frame(self) -> Frame:
        units = self._units
        mean = units.mean(axis=0, dtype=np.float64)
        cov = np.zeros((units.shape[1],) * 2)
        for start in range(0, len(units), 32768):
            block = units[start:start + 32768] - mean
            cov += block.T @ block
        k = min(self.settings.english_components, units.shape[1] - 1)
        top = np.linalg.eigh(cov)[1][:, ::-1][:, :k].T  # eigenvalues ascending: the last k
        mean, top = mean.astype(np.float32), np.ascontiguousarray(top, dtype=np.float32)
        partial = Frame(mean, top, np.ones(0, np.float32), np.zeros(0, np.float32))
        norms = np.concatenate([np.linalg.norm(partial.project(units[s:s + 32768]), axis=1)
                                for s in range(0, len(units), 32768)])
        norms = np.maximum(norms, 1e-6).astype(np.float32)
        hub = self._hub_correction(lambda rows, probes: ((units[rows] @ probes.T) - mean @ probes.T) / norms[rows, None],
                                   partial.question)
        return Frame(mean, top, norms, hub)

    def hubness(self) -> np.ndarray:
        """What each unit's cosine loses before passages are compared: `hub_weight` times how
        much nearer than the index's average unit it is to general questions, i.e. its mean
        cosine to its `hub_neighbours` closest dictionary headwords embedded as questions
        (index.crosslingual.dictionary_sample: general vocabulary of every field, known to no
        corpus or question set), minus the mean of that over the units. This is CSLS (Conneau
        et al. 2018) with general questions as the other side: a sentence close to any
        question (a general statement, a bare list item) stops outranking the one that answers.
        Computed once per index, in blocks, on the first question."""
        if self._hubness is None:
            with self._vectors_lock:
                if self._hubness is None:
                    self._hubness = self._compute_hubness()
        return self._hubness

    def _compute_hubness(self) -> np.ndarray:
        return self._hub_correction(lambda rows, probes: self._units[rows] @ probes.T, _l2_normalised)

    def _hub_correction(self, similarity, place) -> np.ndarray:
        """`hubness` for a way of comparing: `similarity(rows, probes)` scores a slice of units
        against the probes after `place` has put them where the questions go."""
        s = self.settings
        out = np.zeros(len(self._units), dtype=np.float32)
        if not s.hub_weight or not len(self._units):
            return out
        probes = place(dictionary_sample(self.embedder).zh_query).astype(np.float32)
        k = max(1, min(s.hub_neighbours, len(probes)))
        for start in range(0, len(self._units), 32768):
            sims = similarity(slice(start, start + 32768), probes)
            out[start:start + len(sims)] = np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)
        out -= out.mean()
        out *= s.hub_weight
        return out

    def _plain_dense(self, pid: int, vec: np.ndarray) -> float:
        """Passage `pid`'s dense score outside the English frame: what the relevance floor and
        the cards read, for every question alike."""
        rows = slice(self._bounds[pid], self._bounds[pid + 1])
        return float((self._units[rows] @ vec - self.hubness()[rows]).max())

    def unit_vectors(self, pid: int) -> np.ndarray:
        """The stored vectors of passage `pid`'s match units, in sentence order."""
        return self._units[self._bounds[pid]:self._bounds[pid + 1]]

    def _lexical(self, text: str) -> tuple[np.ndarray, np.ndarray, float, np.ndarray | None]:
        """Words, bigrams, coverage, and for English text the single characters of its
        translation (a Chinese question's own words need no partial credit: measured, it costs)."""
        if is_english(text):
            t = self.translation(text)
            words = self.words.set_scores([(s.terms, s.weight) for s in t.sets])
            chars = self.characters.scores(t.pseudo) if self.settings.character_weight else None
            return words, self.bigrams.scores(t.pseudo), t.share, chars
        return self.words.scores(text), self.bigrams.scores(text), self.words.coverage(text), None

    def signals(self, query: str, history: Sequence[str] = ()) -> Signals:
        vec, weight = self.query_vector(query, history)
        words, bigrams, coverage, chars = self._lexical(query)
        if history:
            hw, hb, hc, hchars = self._lexical(" ".join(history))
            words, bigrams = words + weight * hw, bigrams + weight * hb
            if chars is not None and hchars is not None:
                chars = chars + weight * hchars
            coverage = max(coverage, hc * weight)
        english = is_english(query) and self.english_frame() is not None
        return Signals(self.dense_scores(vec, english), words, bigrams, coverage, vec, english, chars)

    def fuse(self, sig: Signals) -> np.ndarray:
        """Each side scaled to [0, 1] over its top candidates; the lexical sides count only as
        much as the corpus vocabulary covers the question, so an English question with no
        glossary terms is ranked by meaning alone. (In place, with few array operations: this
        runs on every question, on caches the query embedding has just flushed.)"""
        s = self.settings
        fused = _scale(sig.dense, s.candidates)
        fused *= s.dense_weight
        if sig.coverage:
            lexical = _unit(sig.words)
            lexical *= s.lexical_weight
            bigrams = _unit(sig.bigrams)
            bigrams *= s.bigram_weight
            lexical += bigrams
            if sig.characters is not None:
                characters = _unit(sig.characters)
                characters *= s.character_weight
                lexical += characters
            lexical *= sig.coverage
            fused += lexical
        return fused

    def search(self, query: str, k: int = 5, history: Sequence[str] = ()) -> Retrieval:
        """The top `k` passages for a question in its conversation, with the query vector and
        the background the relevance floor compares against."""
        query = clean_query(query, self.settings.max_query_chars)
        history = tuple(clean_history(history, self.settings.history_turns, self.settings.max_query_chars))
        sig = self.signals(query, history)
        hits, cited, absent = [], 0, ()
        if self.passages:
            fused = self.fuse(sig)
            asks_by_number = bool(history and self._articles and cited_articles(query)) and not names_a_law(query)
            law = self._conversation_law(history) if asks_by_number else None
            first, absent = self._cited(fused, query, law)
            chosen = set(first)
            order = [i for i in np.argsort(-fused)[: max(k * 8, 50) + len(first)].tolist() if i not in chosen]
            hits = self._dedupe(first + order, fused, sig, k)
            cited = sum(h.passage.id in chosen for h in hits)
        # A question that points back (or is too short to stand alone) is judged in its
        # conversation; one that may merely continue the topic is judged as it is ranked, with
        # its conversation's weak pull: "今天天气怎么样" after a question on petitions is not
        # about petitions because it was asked after one.
        leans = bool(history) and followup_strength(
            query, self.settings.followup_short, self.settings.followup_weak) >= 1.0
        if not leans or not hits:
            return Retrieval(query, history, hits, sig.vector, self.gate.background(sig.vector),
                             cited=cited, absent=absent)
        # A follow-up that says nothing of its own ("然后呢?", "Why?") is as relevant as the
        # conversation it continues: its own vector, near every generic question, would only
        # pull the conversation toward the general vocabulary the floor compares against.
        own = 0.0 if content_free(query) else self.turn_vector(query)
        conversation = _l2_normalised(own + self._past_vector(history))
        return Retrieval(query, history, hits, sig.vector, self.gate.background(conversation),
                         float(self.dense_scores(conversation).max()), cited, absent)

    def _conversation_law(self, history: Sequence[str]) -> str | None:
        """The law the conversation cited articles of: the document the latest earlier turn that
        named a law and an article of it found first ("信访条例第十二条是怎么规定的?"), so that
        "第十四条呢?" or "What does Article 14 say?" after it is of the same law. None when no
        turn did, or its best passage is no law."""
        for turn in reversed(history):
            if names_a_law(turn) and cited_articles(turn):
                doc = self.passages[int(np.argmax(self.fuse(self.signals(turn))))].doc
                return doc if doc in self._articles else None
        return None

    def _cited(self, fused: np.ndarray, query: str, law: str | None = None) -> tuple[list[int], tuple[tuple[int, int], ...]]:
        """The passages of the articles `query` cites by number ("第十二条", "Article 12") in the
        law its best passage comes from, in the law's order (they rank before every other
        passage), and the cited articles that law does not have. "信访工作条例第十二条" means
        that article, which shares no more words with the question than 第二十二条 does. Only
        when the best passage's document has articles, because 条 also counts points
        ("第一条经验"): a question about a page's points finds the page first, and nothing moves."""
        keys = cited_articles(query) if self._articles else set()
        if not keys:
            return [], ()
        articles = self._articles.get(law or self.passages[int(np.argmax(fused))].doc)
        if not articles:
            return [], ()
        pids = [i for key in keys & articles.keys() for i in articles[key]]
        return sorted(pids, key=lambda i: self.passages[i].clean_start), tuple(sorted(keys - articles.keys()))

    def articles(self) -> dict[str, dict[tuple[int, int], list[int]]]:
        """The laws of the index (documents with articles): doc -> article key -> passage ids."""
        return self._articles

    def retrieve(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        return self.search(query, k, history).hits

    def _fingerprints(self, idx: int) -> set[int] | None:
        if idx not in self._normalised:
            norm = normalise(self.passages[idx].text)
            self._normalised[idx] = norm, fingerprints(norm)
        return self._normalised[idx][1]

    def _passage_windows(self, idx: int) -> set[str]:
        """Only for passages whose fingerprints met another's (a set of ~400 strings each)."""
        if idx not in self._windows:
            self._fingerprints(idx)
            self._windows[idx] = norm_windows(self._normalised[idx][0])
        return self._windows[idx]

    def _dedupe(self, order: list[int], fused: np.ndarray, sig: Signals, k: int) -> list[Hit]:
        """The first `k` of `order`, skipping a passage that shares a 30-character stretch with
        one ranked above it. Fingerprints rule out most pairs; the windows decide the rest."""
        hits: list[Hit] = []
        kept: list[int] = []
        seen: set[int] = set()
        whole = False  # a kept passage too short for fingerprints: compare windows
        for idx in order:
            fp = self._fingerprints(idx)
            if kept and (whole or fp is None or not seen.isdisjoint(fp)):
                ws = self._passage_windows(idx)
                if any(not ws.isdisjoint(self._passage_windows(j)) for j in kept):
                    continue
            kept.append(idx)
            if fp is None:
                whole = True
            else:
                seen |= fp
            dense = self._plain_dense(idx, sig.vector) if sig.english else float(sig.dense[idx])
            hits.append(Hit(rank=len(hits) + 1, score=float(fused[idx]), passage=self.passages[idx],
                            dense=dense, lexical=float(sig.words[idx])))
            if len(hits) == k:
                break
        return hits


_GRAM = 15  # fingerprint k-gram length; WINDOW - _GRAM + 1 of them span one window
_SPAN = WINDOW - _GRAM + 1


def fingerprints(norm: str) -> set[int] | None:
    """Winnowing: the least k-gram hash in every run of k-grams that spans a window. Two texts
    sharing a window share that run, hence its least hash; so texts with no fingerprint in
    common share no window. None for a text no longer than a window (compare it whole)."""
    if len(norm) <= WINDOW:
        return None
    grams = np.fromiter((hash(norm[i:i + _GRAM]) for i in range(len(norm) - _GRAM + 1)), dtype=np.int64)
    return set(np.lib.stride_tricks.sliding_window_view(grams, _SPAN).min(axis=1).tolist())


def _scale(x: np.ndarray, candidates: int) -> np.ndarray:
    """Min-max over the top `candidates` values; everything below them is 0. A new array."""
    if not len(x):
        return x.copy()
    n = min(candidates, len(x))
    lo, hi = float(np.partition(x, -n)[-n]), float(x.max())  # the n-th largest, the largest
    out = x - lo
    out /= max(hi - lo, 1e-6)
    np.maximum(out, 0, out=out)
    return np.minimum(out, 1, out=out)


_live: "weakref.WeakSet[Retriever]" = weakref.WeakSet()  # for clear_caches; never keeps one alive


def _l2_normalised(x: np.ndarray) -> np.ndarray:
    """A vector, or each row of a matrix, at unit length."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _unit(x: np.ndarray) -> np.ndarray:
    """`x` over its maximum (zeros when that is not positive). A new array."""
    m = float(x.max()) if len(x) else 0.0
    return x / m if m > 0 else np.zeros_like(x)
