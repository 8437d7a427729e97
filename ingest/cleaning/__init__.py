"""Delete scraped-page noise from a document, keeping an exact offset map.

Cleaning only *deletes* characters: the cleaned text is a subsequence of the
original and ``CleanText.offsets[i]`` is the original index of cleaned
character ``i``.  Each rule is a small function ``(text) -> spans`` returning
``(start, end)`` spans to delete in the *current* text; ``clean`` runs the
rules in order (``RULES``) and composes the offset map after each one.

Rules find noise by form (page counters, upload lines, download prompts),
by repetition across the document (running headers around page counters,
lists of titles sharing a site suffix, n-grams split by a spliced watermark)
and by meaning (short inserted lines far from the document's topic, scored
with the passage embedder when one is given).  None lists sentences of a
particular corpus.

Modules: ``core`` (value objects, the driver), ``helpers`` (shared text
helpers), the rules by kind (``page``, ``site``, ``text``, ``inserted``),
``rules`` (their order, ``clean``) and ``report`` (the command line).
"""
from ingest.cleaning.core import CleanText, Embed, Removal, Rule, Span
from ingest.cleaning.helpers import (CJK, CJK_PUNCT, CLOSERS, TERMINAL, bigram_counts, ends_sentence, is_cjk,
                                     line_with_break, lines_of)
from ingest.cleaning.inserted import inserted_line, watermark
from ingest.cleaning.page import footer_zone, page_counter, page_fragment_number, running_header
from ingest.cleaning.report import main, removed_by_rule
from ingest.cleaning.rules import RULES, clean
from ingest.cleaning.site import filler_intro, site_boilerplate, title_list, title_tag
from ingest.cleaning.text import cjk_space, dangling_punct, dash_in_word, invisible, line_wrap, whitespace

__all__ = [
    "CleanText", "Embed", "Removal", "Rule", "Span", "RULES", "clean", "main", "removed_by_rule",
    # the rules, one function each
    "invisible", "footer_zone", "running_header", "page_counter", "site_boilerplate", "title_list",
    "page_fragment_number", "filler_intro", "title_tag", "dash_in_word", "cjk_space", "line_wrap",
    "watermark", "inserted_line", "dangling_punct", "whitespace",
    # text helpers other code may use
    "CJK", "CJK_PUNCT", "CLOSERS", "TERMINAL", "bigram_counts", "ends_sentence", "is_cjk", "line_with_break",
    "lines_of",
]
