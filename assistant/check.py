"""The citation check: is each generated sentence supported by the passage(s) it cites?

A sentence passes when, for at least one passage it cites,
- the embedder puts it close to one of that passage's sentences (the vectors stored for the
  passage's match units, so nothing is re-embedded but the sentence itself), and
- enough of its content words (jieba words, or character bigrams, whichever share is higher;
  for an English sentence its glossary terms in Chinese plus any Chinese it quotes) occur in
  the passage,
and none of its numbers, proper names (jieba's person, place and organisation tags) or quoted
text is missing from every passage it cites, and none of its content words is said with the
opposite polarity (negated in the sentence, never negated where the passage says it, or the
reverse: "不必先建立信任" against "先建立起信任"). A sentence with no [n], or only [n] that name no
passage, fails. The floors are `Settings.check_dense_floor` (`check_dense_floor_cross` for an
English sentence: cross-lingual cosines run lower) and `check_lexical_floor`.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from index.chars import HAN, cn_number, han_count
from index.crosslingual import is_english
from index.lexical import bigram_tokenize, tokenize
from index.units import SENTENCE, normalise, unit_sentences

_MARK = re.compile(r"\s*[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
_MARK_AFTER_END = re.compile(r"([。!?！？;；.])((?:\s*[\[【]\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[\]】])+)")
_EN_SPLIT = re.compile(rf"(?<=[.!?])[\"')\]]?\s+(?=[A-Z\"“({HAN}])")
_BULLET = re.compile(r"^\s*(?:\d{1,2}[.、)）]\s*|[-*•]\s+|#+\s+)")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_CN_COUNTED = re.compile(r"(第?)([零〇一二两三四五六七八九十百千万亿]+)(?=[个日天年月条项次人名周倍岁元户件份级类种步点章节款批轮])")
_QUOTED = re.compile(r"[《“\"「『]([^》”\"」』]{2,80})[》”\"」』]")
_LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
_CLOSING = re.compile(r"(.*?)([。!?！？.;；]*)$", re.S)
NAME_TAGS = {"nr", "nrt", "nrfg", "ns", "nt"}  # person, place, organisation (nz is too loose)


@dataclass(frozen=True)
class SentenceCheck:
    text: str                      # as written, markers included
    claim: str                     # without its markers
    cited: tuple[int, ...]         # the [n] it carries
    supported_by: tuple[int, ...]  # the cited passages that support it
    reason: str = ""               # why it failed, in Chinese ("" when it passed)
    dense: float = 0.0             # best cosine to a cited passage's sentences
    lexical: float = 0.0           # best share of its content words found in a cited passage

    @property
    def ok(self) -> bool:
        return bool(self.supported_by)

    @property
    def marked(self) -> str:
        """The claim with its [n] before its closing mark: 要保持冷静[1]。 A sentence that passed
        carries only the passages that support it (a [n] it cited that does not would point the
        reader to a card that says nothing of it)."""
        body, end = _CLOSING.match(self.claim).groups()
        return body + "".join(f"[{n}]" for n in (self.supported_by or self.cited)) + end

    def to_dict(self) -> dict:
        return {"text": self.claim, "cited": list(self.cited), "supported_by": list(self.supported_by),
                "ok": self.ok, "reason": self.reason, "dense": round(self.dense, 4),
                "lexical": round(self.lexical, 4)}


def split_cited(text: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """(sentence as written, claim without markers, cited numbers) for each sentence of `text`.
    A marker written after the sentence's closing mark ("……接待。[1]") belongs to that sentence."""
    text = _MARK_AFTER_END.sub(lambda m: m.group(2) + m.group(1), text)
    out = []
    for piece in SENTENCE.findall(text):
        for sent in _EN_SPLIT.split(piece):
            cited = tuple(dict.fromkeys(int(n) for m in _MARK.finditer(sent)
                                        for n in re.split(r"\s*[,，、]\s*", m.group(1))))
            claim = _BULLET.sub("", _MARK.sub("", sent)).replace("**", "").strip()
            if sum(ch.isalnum() for ch in claim) >= 2:
                out.append((sent.strip("\n") if sent.strip() else sent, claim, cited))
    return out


def _value(s: str) -> str:
    return str(float(s)).removesuffix(".0")


def claim_numbers(claim: str) -> set[str]:
    """Numbers a sentence states: digits, and Chinese numerals that count something (三个, 第五条);
    1 written as 一 is left out (一定, 一些, 一个方面 are not claims of quantity)."""
    found = {_value(m.group()) for m in _DIGITS.finditer(claim)}
    for m in _CN_COUNTED.finditer(claim):
        v = cn_number(m.group(2))
        if v is not None and not (v == 1 and m.group(2) == "一"):
            found.add(str(v))
    return found


def source_numbers(text: str) -> set[str]:
    """Every number a passage mentions, in digits or in Chinese numerals (read generously)."""
    found = {_value(m.group()) for m in _DIGITS.finditer(text)}
    for m in _CN_RUN.finditer(text):
        for size in range(len(m.group()), 0, -1):  # 第十五条 and 十五 both read as 15
            for i in range(len(m.group()) - size + 1):
                v = cn_number(m.group()[i:i + size])
                if v is not None:
                    found.add(str(v))
    return found


def warm_up() -> None:
    """Load the part-of-speech tagger (about 2 s) before the first answer needs it."""
    list(_pos_tagger().cut("群众"))


@functools.lru_cache(maxsize=1)
def _pos_tagger():
    import jieba.posseg

    from index.segment import full_jieba

    return jieba.posseg.POSTokenizer(full_jieba())


def claim_names(claim: str) -> set[str]:
    """Proper names and quoted text a sentence relies on."""
    names = {m.group(1).strip() for m in _QUOTED.finditer(claim)}
    if _chinese_sentence(claim):
        names |= {w for w, tag in _pos_tagger().cut(claim) if tag in NAME_TAGS and len(w) >= 2}
        names |= {m.group() for m in _LATIN_NAME.finditer(claim)}
    return {n for n in names if normalise(n)}


def _chinese_sentence(claim: str) -> bool:
    """A Chinese sentence, by what it says outside its quotes: an English sentence that quotes the
    Chinese passage, as the prompt asks, is English (its capitalised first word is no name)."""
    return _mostly_chinese(_QUOTED.sub(" ", claim))


def _mostly_chinese(text: str) -> bool:
    """Mostly Chinese (names are read from Chinese sentences; English ones are checked through
    the Chinese they quote)."""
    cjk = han_count(text)
    return cjk >= len(re.findall(r"[A-Za-z]+", text))


def missing_facts(claim: str, sources: Sequence[str]) -> list[str]:
    """The numbers and names in `claim` that none of `sources` contains."""
    joined = "\n".join(sources)
    numbers = source_numbers(joined)
    norm = normalise(joined).lower()
    missing = [n for n in sorted(claim_numbers(claim)) if n not in numbers]
    missing += [n for n in sorted(claim_names(claim)) if normalise(n).lower() not in norm]
    return missing


# Negation, for the polarity check: a negator negates the content words after it up to the end
# of its clause; two negators in one scope cancel ("不得不"). Avoidance verbs say "not" too.
_NEGATORS = re.compile(r"不得|不要|不必|不应|不能|不可|不准|不许|不宜|没有|并非|切忌|切勿|严禁|禁止|避免|防止|杜绝|"
                       r"[不没无非未勿别莫]")
_CLAUSE = re.compile(r"[^，,。；;！!？?：:、\n]+")


def _polarities(text: str) -> dict[str, set[bool]]:
    """Each content word of `text` (two Han characters or more) -> the polarities it is said with
    (True: negated), clause by clause."""
    out: dict[str, set[bool]] = {}
    for clause in _CLAUSE.findall(text):
        cuts = [m.end() for m in _NEGATORS.finditer(clause)]
        stripped = _NEGATORS.sub(lambda m: " " * len(m.group()), clause)  # negators are not content words
        for m in re.finditer(rf"[{HAN}]{{2,}}", stripped):
            for word in tokenize(m.group()):
                if len(word) >= 2 and han_count(word) == len(word):
                    start = m.start() + m.group().find(word)
                    out.setdefault(word, set()).add(sum(c <= start for c in cuts) % 2 == 1)
    return out


def contradicted(claim: str, passage_text: str) -> list[str]:
    """The content words `claim` says with a polarity the passage never gives them (in clauses
    of the passage that use the word)."""
    said = _polarities(passage_text)
    return sorted(w for w, pols in _polarities(claim).items() if w in said and not pols & said[w])


def is_cross_lingual(claim: str) -> bool:
    """A sentence mostly in English, checked against Chinese passages."""
    return is_english(claim) or not _mostly_chinese(claim)


def content_terms(claim: str, translator=None) -> tuple[set[str], set[str]]:
    """(words, bigrams) the overlap is measured on; an English sentence through its dictionary
    translation into the index's words (index.crosslingual)."""
    translated = translator.translate(claim).pseudo if translator is not None and is_cross_lingual(claim) else ""
    if translated:
        quoted = "".join(re.findall(rf"[{HAN}]+", claim))
        text = f"{translated} {quoted}"
        return set(tokenize(text)), set(bigram_tokenize(quoted)) | set(tokenize(translated))
    return set(tokenize(claim)), set(bigram_tokenize(claim))


def overlap(terms: tuple[set[str], set[str]], passage_text: str) -> float:
    words, bigrams = terms
    shares = [len(t & set(tok(passage_text))) / len(t)
              for t, tok in ((words, tokenize), (bigrams, bigram_tokenize)) if t]
    return max(shares, default=0.0)


def passage_vectors(retriever, passage) -> np.ndarray:
    vectors = retriever.unit_vectors(passage.id)
    sents = unit_sentences(passage.text, passage.section)
    if len(vectors) != len(sents):  # an index built by other rules
        vectors = retriever.embedder.embed_passages(sents)
    return np.asarray(vectors, dtype=np.float32)


def check_answer(retriever, text: str, citations: Sequence, instructions: str = "") -> list[SentenceCheck]:
    """Every sentence of a generated answer, checked against the passages it cites (a sentence
    written again is left out the second time). A sentence
    that only repeats what the model was told (`instructions`) or a cited passage's title and
    headings (the labels the prompt puts above each passage) says nothing the passage says."""
    parts = split_cited(text)
    if not parts:
        return []
    s = retriever.settings
    vecs = retriever.embedder.embed_queries([claim for _, claim, _ in parts])
    by_n = {c.n: c.hit.passage for c in citations}
    told = normalise(instructions)
    out, seen = [], set()
    for (sent, claim, cited), vec in zip(parts, vecs):
        bare = normalise(claim)
        if bare in seen:  # a model that loops repeats itself: a sentence says nothing the second time
            continue
        seen.add(bare)
        if len(bare) >= 4 and bare in told:
            out.append(SentenceCheck(sent, claim, cited, (), "重复了给模型的说明"))
            continue
        out.append(_check_one(retriever, s, sent, claim, cited, np.asarray(vec, dtype=np.float32), by_n))
    return out


def _labels_only(claim: str, passages) -> bool:
    """Whether a sentence is nothing but a cited passage's title and headings ("《…》 篇一 / 体会之二:…")."""
    bare = normalise(claim)
    return len(bare) >= 4 and any(bare in normalise(f"{p.title}{p.section}") for p in passages)


def _check_one(retriever, s, sent, claim, cited, vec, by_n) -> SentenceCheck:
    passages = {n: by_n[n] for n in cited if n in by_n}
    if not cited:
        return SentenceCheck(sent, claim, cited, (), "未标注出处")
    if not passages:
        return SentenceCheck(sent, claim, cited, (), "引用了不存在的段落")
    if _labels_only(claim, passages.values()):
        return SentenceCheck(sent, claim, cited, (), "只重复了资料的标题")
    missing = missing_facts(claim, [f"{p.title}\n{p.section}\n{p.text}" for p in passages.values()])
    terms = content_terms(claim, getattr(retriever, "translator", None))
    scores = {n: (float(np.max(passage_vectors(retriever, p) @ vec)), overlap(terms, p.context or p.text))
              for n, p in passages.items()}
    dense = max(d for d, _ in scores.values())
    lexical = max(lex for _, lex in scores.values())
    if missing:
        return SentenceCheck(sent, claim, cited, (), "资料中没有:" + "、".join(missing), dense, lexical)
    floor = s.check_dense_floor_cross if is_cross_lingual(claim) else s.check_dense_floor
    near = [n for n, (d, lex) in scores.items() if d >= floor and lex >= s.check_lexical_floor]
    # a Chinese sentence close to its passage in words and meaning may still say the opposite
    opposite = {n: contradicted(claim, passages[n].text) for n in near} if _chinese_sentence(claim) else {}
    supported = tuple(n for n in near if not opposite.get(n))
    if near and not supported:
        words = sorted({w for ws in opposite.values() for w in ws})
        return SentenceCheck(sent, claim, cited, (), "与所引段落意思相反:" + "、".join(words[:3]), dense, lexical)
    reason = "" if supported else "与所引段落不符"
    return SentenceCheck(sent, claim, cited, supported, reason, dense, lexical)
