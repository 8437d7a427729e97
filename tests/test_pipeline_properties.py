"""Property tests: any text, and any bytes in any encoding, go through load -> clean -> split
without an exception other than LoadError, and every passage traces back to its source span."""
from __future__ import annotations

import codecs
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from index.errors import LoadError
from index.settings import Settings
from index.units import match_units
from ingest.loaders import load_file
from ingest.pipeline import process

SETTINGS = Settings(semantic_cleaning=False)  # no embedder: the cleaner's form rules only
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

LINES = ["第一条 为了做好新时代信访工作，制定本条例。", "一、畅通信访渠道", "第1页 共3页", "(二) 依法处理",
         "信訪工作是黨的群眾工作的重要組成部分。", "Petition work serves the people.", "## 小标题", "——", "",
         "来源:某某范文网 www.example.com", "……", "1. 首先", "👍🏽 表情 ✅", "\u200b\u00ad\ufeff", "   ", "。。。"]
TEXT = st.one_of(
    st.text(max_size=300),  # anything Python can hold
    st.lists(st.sampled_from(LINES), max_size=25).map("\n".join),
    st.lists(st.sampled_from(LINES), min_size=30, max_size=150).map("\n".join),  # many passages, repeats
    st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=20)), max_size=25).flatmap(
        lambda parts: st.sampled_from(["\n", "\r\n", "\r", "\n\n", ""]).map(lambda sep: sep.join(parts))),
)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "cp950", "utf-16", "utf-16-le", "utf-16-be",
             "utf-32", "latin-1", "cp1252", "shift_jis", "euc-kr", "koi8-r"]
BOMS = {"utf-8-sig", "utf-16", "utf-32"}


def encode(text: str, codec: str) -> bytes:
    return text.encode(codec, errors="replace" if codec not in ("utf-8", "utf-8-sig") else "surrogatepass")


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def check_document(loaded) -> None:
    """The invariants of one processed document."""
    pdoc = process(loaded, "doc", SETTINGS, None)
    event(f"passages={min(len(pdoc.passages), 5)}")  # shown by --hypothesis-show-statistics
    original, cleaned = pdoc.record.original, pdoc.record.cleaned
    assert original == loaded.text
    assert _without(original, pdoc.record.removals) == cleaned  # cleaning only deletes, as logged
    previous_end = 0
    for i, p in enumerate(pdoc.passages):
        assert p.id == i and p.doc == "doc" and p.text.strip()
        assert 0 <= p.clean_start < p.clean_end <= len(cleaned) and cleaned[p.clean_start:p.clean_end] == p.text
        assert 0 <= p.start < p.end <= len(original)
        assert _subsequence(p.text, original[p.start:p.end])  # found in order in the source span
        assert p.clean_start >= previous_end
        previous_end = p.clean_end
        for loc in p.also:
            assert 0 <= loc.clean_start < loc.clean_end <= len(cleaned)
            assert 0 <= loc.start < loc.end <= len(original)
        assert all(u.strip() for u in match_units(p))


def _without(text: str, removals) -> str:
    keep, at = [], 0
    for r in sorted(removals, key=lambda r: r["start"]):
        assert at <= r["start"] <= r["end"] <= len(text)
        keep.append(text[at:r["start"]])
        at = r["end"]
    return "".join(keep) + text[at:]


def load_or_none(path: Path):
    try:
        return load_file(path)
    except LoadError as exc:
        assert exc.reason and "\n" not in exc.reason
        return None


@PROPS
@given(text=TEXT)
@example(text="第一条\r\n\r\n第二条 ")
@example(text="\ufeff\ufeff信访")
def test_any_text_processes(tmp_path, text):
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    loaded = load_or_none(path)
    if loaded is not None:
        check_document(loaded)


@PROPS
@given(text=TEXT, codec=st.sampled_from(ENCODINGS), suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_text_in_any_encoding_processes(tmp_path, text, codec, suffix):
    data = encode(text, codec)
    path = tmp_path / f"e{suffix}"
    path.write_bytes(data)
    loaded = load_or_none(path)
    if loaded is None:
        return
    if codec in BOMS and suffix != ".html" and "\x00" not in text:
        expected = codecs.decode(data, codec)
        assert loaded.text == expected  # a BOM decides: never mojibake
    check_document(loaded)


@PROPS
@given(data=st.binary(max_size=800), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
                                                             b"<html><body><p>", "信访".encode("gbk")]),
       suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_random_bytes_process(tmp_path, data, prefix, suffix):
    path = tmp_path / f"b{suffix}"
    path.write_bytes(prefix + data)
    loaded = load_or_none(path)
    if loaded is not None:
        check_document(loaded)
