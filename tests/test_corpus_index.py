"""The shipped corpus, indexed for real: clean, complete and traceable passages (issue 3)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import read_markers, read_questions
from conftest import eval_file
from index.store import load_index
from index.units import normalise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(corpus_index):
    return load_index(corpus_index)


def test_no_passage_contains_noise_markers(data):
    markers = read_markers(eval_file("dev_junk_markers.txt"))
    assert markers
    dirty = [(p.id, m) for p in data.passages for m in markers if m in normalise(p.text)]
    assert dirty == []


@pytest.mark.parametrize("name", ["dev_questions.jsonl", "dev_multiturn.jsonl"])
def test_every_gold_string_survives_in_some_passage(data, name):
    texts = [normalise(p.text) for p in data.passages]
    for q in read_questions(eval_file(name)):
        assert any(normalise(g) in t for g in q.gold for t in texts), q.id


def test_every_passage_traces_back_to_the_original_file(data):
    for p in data.passages:
        original = Path(p.source).read_text(encoding="utf-8")
        span = iter(original[p.start:p.end])
        letters = [ch for ch in p.text if ch.isalnum()]
        assert all(ch in span for ch in letters), p.id
        cleaned = data.documents[p.doc].cleaned
        assert cleaned[p.clean_start:p.clean_end] == p.text


def test_passages_are_answer_sized_with_titles_and_sections(data):
    sizes = [len(p.text) for p in data.passages]
    limit = data.manifest["settings"]["max_chars"]  # a short tail may join its neighbour: 1.3x
    assert max(sizes) <= 1.3 * limit and 150 < sum(sizes) / len(sizes) < 300
    titles = {p.doc: p.title for p in data.passages}
    assert titles["001_f97e909e026fd5b1.txt"] == "最新做好群众工作心得体会和方法模板"
    assert not any(t.endswith((".docx", ".doc", ".txt")) or "范文网" in t for t in titles.values())
    assert sum(bool(p.section) for p in data.passages) / len(data.passages) > 0.6


def test_repeated_sections_are_indexed_once_with_their_locations(data):
    norm = [normalise(p.text) for p in data.passages]
    assert len(norm) == len(set(norm))
    assert any(p.also for p in data.passages), "001 repeats whole sections; their copies become locations"
    for p in data.passages:
        for loc in p.also:
            assert normalise(data.documents[loc.doc].cleaned[loc.clean_start:loc.clean_end]) in normalise(p.text)


def test_a_repeated_passage_names_the_section_of_each_place(data, corpus_assistant):
    from ui.viewer import CLEANED, passage_focus, render_focus

    moved = [(p, loc) for p in data.passages for loc in p.also if loc.section != p.section]
    assert moved, "001 repeats sections under other headings (篇四 / 篇五)"
    for p, loc in moved:
        cleaned = data.documents[loc.doc].cleaned
        for label in loc.section.split(" / "):  # each heading of the path stands before that place
            assert cleaned.rfind(label[:8], 0, loc.clean_end) >= 0, (label, loc)
    p, loc = next((p, loc) for p, loc in moved if loc.section.split(" / ")[-1] != p.section.split(" / ")[-1])
    k = 1 + p.also.index(loc)
    version = corpus_assistant.retriever().data.version
    head, _ = render_focus(corpus_assistant, passage_focus(corpus_assistant, p.id, k, version), CLEANED)
    cited = head.split('class="qz-cited">', 1)[1]
    assert loc.section.split(" / ")[-1][:8] in cited and p.section.split(" / ")[-1] not in cited


def test_cleaning_report_lists_removals_by_rule(data):
    from assistant.reports import cleaning_report

    rep = cleaning_report(data.documents["003_1ff89043ef5ea4ee.txt"])
    assert rep["removed_chars"] > 0 and rep["kept"] + rep["removed_chars"] == rep["chars"]
    removed = " ".join(s["text"] for spans in rep["removed"].values() for s in spans)
    assert "展开阅读全文" in removed and "文档编号" in removed
