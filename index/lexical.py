"""BM25 over jieba tokens, with a 群众工作/信访 domain dictionary.

Domain terms (上访, 越级访, 缠访闹访 ...) are added to jieba so they stay
whole. Word swaps made by "伪原创" rewriting tools (效劳/服务, 根底/基础,
开展/发展 ...) are folded to one form on both sides, so a query in plain
wording still matches a rewritten passage. Scores come from a sparse
passage-by-term matrix built once at load, so a query costs a few column
sums, not a pass over the corpus.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

DOMAIN_TERMS = (
    "群众工作", "群众路线", "群众观点", "群众观念", "信访", "上访", "越级访", "越级上访", "重复访", "集体访",
    "缠访", "闹访", "缠访闹访", "非正常上访", "接访", "下访", "大接访", "回访", "息访", "访民", "信访人",
    "来访群众", "上访群众", "群体性事件", "矛盾纠纷", "社情民意", "民情日志", "干群关系", "党群关系",
    "群众利益", "切身利益", "利益诉求", "诉求", "疏导", "化解", "维稳", "换位思考", "联系群众",
    "长效机制", "基层组织", "基层党组织", "领导干部", "基层干部", "党员干部", "征地拆迁", "拆迁安置",
    "为人民服务", "执政为民", "敢于担当", "作风建设", "试金石", "心贴心", "面对面", "人民调解",
    "情绪激动", "火气", "接待", "宗旨意识", "惠民政策", "先进典型", "思想政治工作",
)

# Forms a rewriting tool substitutes, folded to the plain form.
VARIANTS = {
    "效劳": "服务", "根底": "基础", "开展": "发展", "进展": "发展", "冲突": "矛盾", "熟识": "认识",
    "讨论": "研究", "广阔": "广大", "局部": "部分", "比方": "比如",
    "必需": "必须", "爱护": "保护", "准时": "及时", "显现": "出现", "本事": "本领", "经受": "经历",
    "成认": "承认", "播送": "广播",
}

STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 要 把 被 对 为 以 而 之 其 这 那 这个 那个 这些 那些 一个 一种 有 有些 "
    "怎样才能 才能 我 我们 你 你们 他 他们 她 它 自己 怎么 怎样 怎么样 如何 什么 为什么 哪些 哪里 多少 吗 呢 吧 啊 呀 "
    "应该 应当 可以 能 能够 会 该 需要 是否 还是 以及 等 等等 上 下 中 里 时 后 前 说 讲 "
    "what how why which who when where the a an of to in on for and or is are be do does did should can "
    "i we you they it this that with about from as by at".split()
)

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+")
_SPLIT_CJK = re.compile(r"[\u4e00-\u9fff]+")
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in DOMAIN_TERMS:
        jieba.add_word(term, freq=200000)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Words for matching: jieba words, variants folded, stopwords and punctuation dropped."""
    jieba = _jieba()
    with _lock:  # jieba's lazy state is not thread-safe
        words = jieba.lcut_for_search(text.lower(), HMM=False)
    out = []
    for w in words:
        w = w.strip()
        if not w or not _TOKEN.match(w) or w in STOPWORDS:
            continue
        out.append(VARIANTS.get(w, w))
    return out


_NOT_WORD = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


def bigram_tokenize(text: str) -> list[str]:
    """Overlapping character bigrams: matching that does not depend on word segmentation
    (年轻干部 and 青年干部 share 干部; 谦逊之心 and 心态 do not need one segmentation)."""
    folded = _NOT_WORD.sub(" ", text.lower())
    for src, dst in VARIANTS.items():
        folded = folded.replace(src, dst)
    out = []
    for run in folded.split():
        if run.isascii():
            if run not in STOPWORDS:
                out.append(run)
            continue
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


class BM25:
    """Okapi BM25 over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75, tokenizer=tokenize):
        self.tokenize = tokenizer
        docs = [Counter(tokenizer(t)) for t in texts]
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for i, counts in enumerate(docs):
            for term, tf in counts.items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n = max(len(docs), 1)
        lengths = np.array([sum(c.values()) for c in docs] or [0], dtype=np.float32)
        avg = float(lengths.mean()) or 1.0
        tf = np.array(tfs, dtype=np.float32)
        norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[rows] / avg)) if tfs else tf
        self.vocab = vocab
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(vocab)) if cols else np.zeros(0)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.matrix = sparse.csc_matrix((norm, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)
        self.size = len(docs)

    def query_terms(self, query: str) -> list[int]:
        return [self.vocab[t] for t in dict.fromkeys(self.tokenize(query)) if t in self.vocab]

    def coverage(self, query: str) -> float:
        """Share of the query's information (idf mass) that the corpus vocabulary knows.

        An English question over a Chinese corpus has coverage near 0, and the
        fusion then leans on the dense side.
        """
        terms = list(dict.fromkeys(self.tokenize(query)))
        if not terms:
            return 0.0
        known = [self.idf[self.vocab[t]] for t in terms if t in self.vocab]
        unknown = sum(1 for t in terms if t not in self.vocab) * math.log(1 + self.size)
        total = float(sum(known)) + unknown
        return float(sum(known)) / total if total else 0.0

    def scores(self, query: str) -> np.ndarray:
        cols = self.query_terms(query)
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        sub = self.matrix[:, cols] @ sparse.diags(self.idf[cols])
        return np.asarray(sub.sum(axis=1)).ravel().astype(np.float32)


# English -> Chinese domain glossary, so an English question also gets lexical evidence
# from Chinese passages. Longest phrases are matched first.
GLOSSARY = {
    "letters and visits": "信访", "petitioners": "上访 信访 来访群众", "petitioner": "上访 信访 来访群众",
    "petitions": "上访 信访", "petition": "上访 信访", "skip-level": "越级访", "repeated petitions": "重复访",
    "emotionally": "情绪", "emotional": "情绪", "agitated": "情绪激动", "angry": "火气 情绪激动",
    "upset": "情绪", "temper": "火气", "calm": "平息 情绪", "handle": "接待 处理", "deal with": "处理",
    "receive": "接待", "reception": "接待", "mass work": "群众工作", "work with the masses": "群众工作",
    "mass line": "群众路线", "masses": "群众", "the people": "人民群众", "residents": "居民", "villagers": "村民",
    "farmers": "农民", "cadres": "干部", "cadre": "干部", "officials": "干部", "official": "干部",
    "leaders": "领导干部", "leading cadres": "领导干部", "grassroots": "基层", "rural": "农村", "village": "村",
    "countryside": "农村", "party organizations": "党组织 基层组织", "party organization": "党组织 基层组织",
    "training course": "培训课 培训", "training": "培训", "new situation": "新形势", "new era": "新时期",
    "characteristics": "特点", "characteristic": "特点", "features": "特点", "conflicts": "矛盾 纠纷",
    "conflict": "矛盾 纠纷", "disputes": "纠纷 矛盾", "dispute": "纠纷", "contradictions": "矛盾",
    "mass incidents": "群体性事件", "mass incident": "群体性事件", "protest": "群体性事件", "policies": "政策",
    "policy": "政策", "long-term mechanism": "长效机制", "mechanism": "机制", "system": "制度",
    "demolition": "拆迁", "relocation": "拆迁 安置", "resettlement": "安置", "land acquisition": "征地",
    "interests": "利益", "interest": "利益", "complaints": "诉求 意见", "complaint": "诉求 意见",
    "demands": "诉求 需求", "needs": "需求", "opinions": "意见", "work style": "作风", "style of work": "作风",
    "responsibility": "担当 责任", "harmonious society": "和谐社会", "harmony": "和谐", "stability": "稳定",
    "serve the people": "为人民服务", "service": "服务", "serve": "服务", "trust": "信任", "problems": "问题",
    "problem": "问题", "issues": "问题", "solve": "解决", "resolve": "解决 化解", "communication": "沟通",
    "communicate": "沟通", "listen": "倾听", "patience": "耐心", "patiently": "耐心", "feedback": "反馈",
    "participation": "参与", "participate": "参与", "education": "教育", "ideological": "思想政治工作",
    "role models": "典型 榜样", "role model": "典型 榜样", "young cadres": "青年干部", "poverty": "贫困",
    "poor households": "贫困户", "drinking water": "饮用水 地下水", "township": "乡镇", "county": "县",
    "leadership": "领导", "decision-making": "决策", "decisions": "决策", "media": "媒体", "internet": "网络",
    "online": "网络", "rumors": "谣言", "rumours": "谣言", "emergency": "突发事件", "psychology": "心理学",
    "prevent": "预防 防患", "early stage": "萌芽", "government": "政府", "attitude": "态度",
    "feelings": "感情", "affection": "感情", "relationship": "关系", "party": "党", "organization": "组织",
    "visit": "走访 下访", "visits": "走访 下访", "interview": "接访", "mediation": "调解", "mediate": "调解",
    "law": "法律 依法", "legal": "法律 依法", "rights": "权益", "welfare": "民生", "livelihood": "民生",
}
_GLOSSARY_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, GLOSSARY), key=len, reverse=True)) + r")\b",
                          re.IGNORECASE)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def cross_lingual(query: str) -> tuple[str, float]:
    """For a mostly-English question: its glossary terms in Chinese, and the share of its
    content words the glossary covered (which scales the lexical side's say)."""
    words = [w.lower() for w in _LATIN_WORD.findall(query) if w.lower() not in STOPWORDS]
    cjk = len(_SPLIT_CJK.findall(query))
    if not words or cjk > len(words):
        return "", 0.0
    found = [m.group(1).lower() for m in _GLOSSARY_RE.finditer(query)]
    covered = sum(len(f.split()) for f in found)
    return " ".join(GLOSSARY[f] for f in found), min(1.0, covered / len(words))
