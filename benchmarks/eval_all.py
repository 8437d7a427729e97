"""Every retrieval evaluation set, per language, each on the index it is defined over.

    python benchmarks/eval_all.py [--shared ../shared/eval] [--data data/eval] [--json FILE]

Sets and their indexes:
- dev (tuning set): the scraped corpus; `dev_questions`, `dev_multiturn` and the English
  translations of the dev questions (`tuning/dev_questions_en.jsonl`). Retrieval was tuned on
  these.
- regs (development, not tuned on): corpus + four official documents in four formats + 100
  unrelated regulations; `regs/questions.jsonl`, `regs/multiturn.jsonl`.
- heldout (written apart from the retrieval work, never tuned on): questions over six of the
  100 regulations (regs index), over other scraped pages (`tests/resources/cleaning`,
  `tests/resources/ui`, mixed into the corpus), follow-ups over both, and new questions and
  follow-ups over the scraped corpus itself (dev index; written after the design was frozen),
  and questions over four other regulations converted to .docx/.pdf/.html/GBK .txt, indexed in
  place of their Markdown copies among the other 96 (formats index; `heldout/formats`).
Retrieval changes are chosen on the tuning sets (`TUNED`) alone. `--setting NAME VALUE` compares
a query-time choice and then runs only those sets: a variant is never read on a held-out or
development set while it is being chosen (`--tuning` does the same at the defaults).
An index is built once per set under --data and reused while its sources are unchanged
(ingest is incremental). The regs and formats indexes take about 15-20 minutes each to build
the first time.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import evaluate, format_table, read_markers, read_questions  # noqa: E402

RES = ROOT / "tests" / "resources"
HELDOUT = RES / "eval" / "heldout"
TUNING = RES / "eval" / "tuning"
# In place of a `set` filter: every question of the file asked after an unrelated one (the one
# half the file away). Following a conversation must not cost a question that changes the topic.
TOPIC_CHANGE = "after an unrelated question"
# The sets retrieval was tuned on; every other set is read only at the defaults, after the fact.
TUNED = frozenset({"dev_questions", "dev_questions_en", "dev_multiturn", "dev_multiturn_en", "dev_topic_change",
                   "dev_topic_change_en", "corpus_questions", "corpus_multiturn", "followups_tuning", "regs_tuning",
                   "regs_tuning2"})


def questions(path: Path, only: str | None):
    """The questions of a set file: those whose `set` field is `only`, or, for TOPIC_CHANGE,
    each one with an unrelated earlier turn."""
    if only != TOPIC_CHANGE:
        return read_questions(path, only)
    qs = read_questions(path)
    return [dataclasses.replace(q, id=q.id + "s", history=(qs[(i + len(qs) // 2) % len(qs)].q,))
            for i, q in enumerate(qs)]


def suites(shared: Path) -> dict[str, tuple[list[Path], list[tuple[str, Path, str | None]]]]:
    """name -> (index sources, [(set name, question file, `set` field filter, TOPIC_CHANGE or None)])."""
    dev_sets = shared if (shared / "dev_questions.jsonl").exists() else RES / "eval"
    regs = shared / "regs"
    out = {
        "dev": ([ROOT / "corpus"], [("dev_questions", dev_sets / "dev_questions.jsonl", None),
                                    ("dev_questions_en", TUNING / "dev_questions_en.jsonl", None),
                                    ("dev_multiturn", dev_sets / "dev_multiturn.jsonl", None),
                                    ("dev_multiturn_en", TUNING / "dev_multiturn_en.jsonl", None),
                                    ("dev_topic_change", dev_sets / "dev_questions.jsonl", TOPIC_CHANGE),
                                    ("dev_topic_change_en", TUNING / "dev_questions_en.jsonl", TOPIC_CHANGE),
                                    ("corpus_questions", TUNING / "corpus_questions.jsonl", None),
                                    ("corpus_multiturn", TUNING / "corpus_multiturn.jsonl", None),
                                    ("followups_tuning", TUNING / "followups_tuning.jsonl", None),
                                    ("heldout_corpus", HELDOUT / "corpus_heldout.jsonl", None),
                                    ("heldout_corpus_multiturn", HELDOUT / "corpus_multiturn_heldout.jsonl", None)]),
        "pages": ([ROOT / "corpus", RES / "cleaning", RES / "ui"],
                  [("heldout_pages", HELDOUT / "pages_heldout.jsonl", None),
                   ("heldout_pages_multiturn", HELDOUT / "multiturn_heldout.jsonl", "pages")]),
    }
    if regs.exists():
        out["regs"] = ([ROOT / "corpus", regs / "docs", regs / "distractors"],
                       [("regs_questions", regs / "questions.jsonl", None),
                        ("regs_multiturn", regs / "multiturn.jsonl", None),
                        ("regs_tuning", TUNING / "regs_tuning.jsonl", None),
                        ("regs_tuning2", TUNING / "regs_tuning2.jsonl", None),
                        ("heldout_regs", HELDOUT / "regs_heldout.jsonl", None),
                        ("heldout_regs_multiturn", HELDOUT / "multiturn_heldout.jsonl", "regs")])
        formats = HELDOUT / "formats"
        if formats.is_dir():  # four of the regulations as .docx/.pdf/.html/GBK .txt, each indexed once
            drawn = {f"{m[0]}.md" for f in formats.iterdir() if (m := re.search(r"d\d{3}", f.name))}
            others = sorted(f for f in (regs / "distractors").glob("*.md") if f.name not in drawn)
            out["formats"] = ([ROOT / "corpus", regs / "docs", formats, *others],
                              [("heldout_formats", HELDOUT / "formats_heldout.jsonl", None),
                               ("heldout_formats_multiturn", HELDOUT / "formats_multiturn_heldout.jsonl", None)])
    else:
        print(f"note: {regs} not found; the official-documents sets are skipped (--shared DIR)", file=sys.stderr)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "eval"), help="the shared eval folder")
    ap.add_argument("--data", default=str(ROOT / "data" / "eval"), help="where the eval indexes live")
    ap.add_argument("--only", nargs="*", help="suite names (dev, pages, regs)")
    ap.add_argument("--json", help="write the reports here as JSON")
    ap.add_argument("--setting", nargs=2, action="append", metavar=("NAME", "VALUE"),
                    help="a query-time setting to compare (repeatable); runs the tuning sets only")
    ap.add_argument("--tuning", action="store_true", help="only the sets retrieval is tuned on")
    args = ap.parse_args(argv)

    from assistant.retrieval import Retriever
    from index.embedders import get_embedder
    from index.errors import ConfigError
    from index.settings import Settings
    from index.store import load_index
    from ingest.build import ingest

    try:
        overrides = Settings.parse_overrides(args.setting)
    except ConfigError as exc:
        ap.error(str(exc))
    tuning_only = args.tuning or bool(overrides)
    if overrides:
        print(f"settings {overrides}: the tuning sets only", file=sys.stderr)
    shared = Path(args.shared)
    markers = read_markers(shared / "dev_junk_markers.txt" if (shared / "dev_junk_markers.txt").exists()
                           else RES / "eval" / "dev_junk_markers.txt")
    reports = []
    for name, (sources, sets) in suites(shared).items():
        if args.only and name not in args.only:
            continue
        if tuning_only:
            sets = [row for row in sets if row[0] in TUNED]
            if not sets:
                continue
        index = Path(args.data) / name
        ingest([str(s) for s in sources], index, progress=False)
        data = load_index(index)
        settings = Settings.for_index(data.manifest.get("settings"), **overrides)
        retriever = Retriever(data, get_embedder(data.manifest["embedder"]["name"]), settings)

        def search(q, history, k):
            return [h.passage.text for h in retriever.retrieve(q, k=k, history=history)]

        for set_name, path, only in sets:
            if path.exists():
                reports.append(evaluate(set_name, questions(path, only), search, markers))
    print(format_table(reports))
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
