"""The rules in the order they run, and ``clean``, which runs them."""
from __future__ import annotations

from ingest.cleaning.core import CleanText, Embed, Rule, Span, run_rules
from ingest.cleaning.inserted import inserted_line, watermark
from ingest.cleaning.page import footer_zone, page_counter, page_fragment_number, running_header
from ingest.cleaning.site import filler_intro, site_boilerplate, title_list, title_tag
from ingest.cleaning.text import cjk_space, dangling_punct, dash_in_word, invisible, line_wrap, whitespace

RULES: tuple[Rule, ...] = (
    Rule("invisible", invisible, "zero-width, control and carriage-return characters"),
    Rule("footer_zone", footer_zone, "page tail from a related-list/licence marker to the end"),
    Rule("running_header", running_header, "header/footer blocks repeated around page counters"),
    Rule("page_counter", page_counter, "page counters and page-number lines"),
    Rule("site_boilerplate", site_boilerplate, "upload/author/time lines, breadcrumbs, download prompts, licence"),
    Rule("title_list", title_list, "lists of unrelated titles sharing a site suffix"),
    Rule("page_fragment_number", page_fragment_number, "numbers starting each page fragment; rejoins split words"),
    Rule("filler_intro", filler_intro, "sentences addressing the reader about the page"),
    Rule("title_tag", title_tag, "{template tags} after the title or a heading; file extensions after the title"),
    Rule("dash_in_word", dash_in_word, "lone hyphens inserted between Chinese characters"),
    Rule("cjk_space", cjk_space, "spaces inside Chinese text from PDF line wraps"),
    Rule("line_wrap", line_wrap, "hard line wraps inside Chinese paragraphs"),
    Rule("watermark", watermark, "foreign strings spliced inside a phrase"),
    Rule("inserted_line", inserted_line, "short unrelated lines between paragraphs", needs_embed=True),
    Rule("dangling_punct", dangling_punct, "line breaks before a stray leading 。"),
    Rule("whitespace", whitespace, "trailing spaces, blank-line runs, edges"),
)


def clean(original: str, *, embed: Embed | None = None, marked: tuple[Span, ...] = ()) -> CleanText:
    """Run every rule of RULES in order (after removing the ``marked`` spans); return the text with its offset map."""
    return run_rules(original, RULES, embed, marked)
