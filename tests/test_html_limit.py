"""A web page the HTML parser would need gigabytes for is refused at once with the reason; a
long real page still loads."""
from __future__ import annotations

import resource
import time

import pytest

from index.errors import LoadError
from ingest.loaders import MAX_HTML_ELEMENTS, load_file


def test_deeply_nested_page_is_refused_quickly_with_the_reason(tmp_path):
    n = 1_500_000  # the audit's page: 15 MB of nested <div>s took 1.0 GB and 40 s
    page = tmp_path / "nested.html"
    page.write_bytes(b"<html><body>" + b"<div>" * n + "群众工作".encode() + b"</div>" * n + b"</body></html>")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(LoadError, match=f"more than {MAX_HTML_ELEMENTS:,} HTML elements .*save the page as .txt"):
        load_file(page)
    assert time.perf_counter() - t0 < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: no parse tree built


def test_a_long_real_page_still_loads(tmp_path):
    rows = "".join(f"<tr><td>第{i}条</td><td>信访事项应当及时受理,依法办理。</td></tr>" for i in range(3000))
    page = tmp_path / "long.html"
    page.write_text(f"<html><body><h1>信访条例</h1><table>{rows}</table></body></html>", encoding="utf-8")
    loaded = load_file(page)
    assert "第2999条" in loaded.text and "信访条例" in loaded.text
