"""Domain vocabulary for matching, read from data files with a reason for every entry:
petition-work terms that word segmentation keeps whole (`data/domain_terms.tsv`), word swaps
made by "伪原创" rewriting tools folded back on whole words (`data/rewrite_folds.tsv`), and
stopwords (function words of Chinese and English).

English questions are not bridged by a glossary of question words: see index.crosslingual (a
general dictionary, plus the field's established English names of these terms with their
sources, `data/domain_english.tsv`)."""
from __future__ import annotations

from importlib import resources

from index.crosslingual import FUNCTION_WORDS


def _rows(name: str) -> list[list[str]]:
    text = resources.files("index").joinpath("data", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


DOMAIN_TERMS = tuple(row[0] for row in _rows("domain_terms.tsv"))

VARIANTS = {row[0]: row[1] for row in _rows("rewrite_folds.tsv")}

# Chinese function words (particles, pronouns, auxiliaries, question words) and English ones.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 要 把 被 对 为 以 而 之 其 这 那 这个 那个 这些 那些 一个 一种 有 有些 "
    "我 我们 你 你们 他 他们 她 它 自己 怎么 怎样 怎么样 如何 什么 为什么 哪些 哪里 多少 吗 呢 吧 啊 呀 "
    "应该 应当 可以 能 能够 会 该 需要 是否 还是 以及 等 等等 上 下 中 里 时 后 前 说 讲".split()
) | FUNCTION_WORDS
