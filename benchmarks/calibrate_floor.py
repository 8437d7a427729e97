"""Calibrate the relevance floor on one set of questions and show it on others.

    python benchmarks/calibrate_floor.py [--index data/eval/dev] [--check-index data/eval/regs]

Calibration: the tuning questions (scraped-corpus dev set and its English translation) must
pass, the off-topic calibration questions (written apart from the retrieval work) must fail.
The floor is the midpoint of the interval of thresholds with the fewest calibration errors.
Check: the same floor on questions not used for calibration, the official-documents set on
its own index, and two off-topic sets (tests/resources/eval/offtopic.jsonl and
heldout/offtopic_heldout.jsonl). In a conversation: follow-ups must pass, and off-topic
questions asked after an in-domain question must fail (the tuning follow-ups and the
calibration off-topic questions after tuning questions; then, as the check, held-out
follow-ups and the other off-topic sets after held-out questions). Prints error counts,
never changes a setting.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL = ROOT / "tests" / "resources" / "eval"


def margins(retriever, rows: list[dict]) -> list[float]:
    """Each question's relevance margin, exactly as `ask` judges it (Retrieval.margin)."""
    return [retriever.search(row["q"], k=5, history=row.get("history") or ()).margin for row in rows]


def after(rows: list[dict], questions: list[dict]) -> list[dict]:
    """Each row asked after an in-domain question (the i-th after question i, cycling)."""
    return [{**row, "history": [questions[i % len(questions)]["q"]]} for i, row in enumerate(rows)]


def conversation_check(r, label: str, followups: list[dict], offtopic: list[dict]) -> tuple[int, int]:
    floor = r.settings.relevance_floor
    refused = sum(m < floor for m in margins(r, followups))
    passed = sum(m >= floor for m in margins(r, offtopic))
    print(f"{label}: {refused}/{len(followups)} follow-ups refused (should pass), "
          f"{passed}/{len(offtopic)} off-topic questions inside a conversation pass (should fail)")
    return refused, passed


def best_floor(on: list[float], off: list[float]) -> tuple[float, int]:
    """The midpoint of the widest threshold interval with the fewest errors (on < t, off >= t)."""
    cuts = sorted(set(on + off))
    best = None
    for lo, hi in zip(cuts, cuts[1:]):
        t = (lo + hi) / 2
        errors = sum(m < t for m in on) + sum(m >= t for m in off)
        key = (errors, -(hi - lo))
        if best is None or key < best[0]:
            best = (key, t)
    return best[1], best[0][0]


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _retriever(index: Path):
    from assistant.retrieval import Retriever
    from index.embedders import get_embedder
    from index.store import load_index

    data = load_index(index)
    return Retriever(data, get_embedder(data.manifest["embedder"]["name"]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=str(ROOT / "data" / "eval" / "dev"))
    ap.add_argument("--check-index", default=str(ROOT / "data" / "eval" / "regs"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "eval"))
    args = ap.parse_args(argv)
    r = _retriever(Path(args.index))
    on = margins(r, _rows(EVAL / "dev_questions.jsonl") + _rows(EVAL / "tuning" / "dev_questions_en.jsonl"))
    off = margins(r, _rows(EVAL / "heldout" / "offtopic_calibration.jsonl"))
    floor, errors = best_floor(on, off)
    print(f"calibrated floor {floor:.4f}: {errors} errors on {len(on)} in-domain + {len(off)} off-topic "
          f"(setting now {r.settings.relevance_floor})")
    report = {"floor": floor}
    for name, path in (("offtopic", EVAL / "offtopic.jsonl"), ("offtopic_heldout", EVAL / "heldout" / "offtopic_heldout.jsonl")):
        ms = margins(r, _rows(path))
        report[name] = sum(m >= r.settings.relevance_floor for m in ms)
        print(f"{name}: {report[name]}/{len(ms)} pass the floor (should fail)")
    tuning_followups = [row for name in ("dev_multiturn.jsonl", "tuning/dev_multiturn_en.jsonl",
                                         "tuning/corpus_multiturn.jsonl", "tuning/followups_tuning.jsonl")
                        for row in _rows(EVAL / name)]
    conversation_check(r, "conversations, calibration side", tuning_followups,
                       after(_rows(EVAL / "heldout" / "offtopic_calibration.jsonl"), _rows(EVAL / "dev_questions.jsonl")))
    heldout = _rows(EVAL / "heldout" / "corpus_heldout.jsonl")
    conversation_check(r, "conversations, check", _rows(EVAL / "heldout" / "corpus_multiturn_heldout.jsonl"),
                       after(_rows(EVAL / "offtopic.jsonl") + _rows(EVAL / "heldout" / "offtopic_heldout.jsonl"), heldout))
    check = Path(args.check_index)
    regs = Path(args.shared) / "regs" / "questions.jsonl"
    if check.exists() and regs.exists():
        rc = _retriever(check)
        ms = margins(rc, _rows(regs))
        print(f"regs questions on {check}: {sum(m < rc.settings.relevance_floor for m in ms)}/{len(ms)} refused "
              f"(should pass)")
        ms = margins(rc, _rows(EVAL / "offtopic.jsonl"))
        print(f"offtopic on {check}: {sum(m >= rc.settings.relevance_floor for m in ms)}/{len(ms)} pass (should fail)")
        conversation_check(rc, f"conversations on {check}", _rows(regs.parent / "multiturn.jsonl"),
                           after(_rows(EVAL / "offtopic.jsonl") + _rows(EVAL / "heldout" / "offtopic_heldout.jsonl"),
                                 _rows(regs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
