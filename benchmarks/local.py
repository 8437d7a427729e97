"""In-process sections: ingest (cold, warm, one document changed) and warm retrieval latency.

Ours and the tutorial pipeline share one loaded embedder, and latency samples are
interleaved question by question, so machine load hits both sides alike.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CORPUS, percentiles, timed
from benchmarks.tutorial import Tutorial, files_of

log = logging.getLogger(__name__)

CHANGE = "\n各地应当根据群众来信来访中反映的新情况,及时补充完善接待制度,并认真抓好落实。\n"


def _edit(path: Path) -> None:
    """Insert a new paragraph at the line boundary nearest the middle: an edit inside the body
    (text appended after a scraped page's last footer would be cleaned away as footer)."""
    text = path.read_text(encoding="utf-8")
    cut = text.find("\n", len(text) // 2)
    cut = len(text) if cut < 0 else cut
    path.write_text(text[:cut] + CHANGE + text[cut:], encoding="utf-8")


def _rates(seconds: float, passages: int, chars: int) -> dict:
    return {"seconds": round(seconds, 3), "passages": passages, "chars": chars,
            "passages_per_s": round(passages / seconds, 2) if seconds else None,
            "chars_per_s": round(chars / seconds, 1) if seconds else None}


def ingest_section(work: Path, embedder) -> dict:
    """Cold build, rebuild with nothing changed, and one (the smallest) document changed."""
    from ingest.build import ingest

    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    files = files_of(corpus)
    chars = sum(len(f.read_text(encoding="utf-8", errors="replace")) for f in files)
    root = work / "ours"
    out: dict = {"documents": len(files), "corpus_chars": chars}
    for label in ("cold", "warm", "changed"):
        if label == "changed":
            smallest = min(files, key=lambda f: f.stat().st_size)
            _edit(smallest)
            out["changed_document"] = {"doc": smallest.name, "bytes": smallest.stat().st_size}
        seconds, report = timed(ingest, [corpus], root, embedder=embedder, progress=False)
        out[f"ours_{label}"] = {**_rates(seconds, report.passages, chars), "embedded_units": report.embedded,
                                "reused_units": report.reused}
        if label == "changed":  # the edit must reach the index, or the figure times nothing
            from index.store import load_index

            new_text = CHANGE.strip()[:20]
            out["changed_document"]["edit_indexed"] = any(new_text in p.text for p in load_index(root).passages)
        log.info("ours %s ingest: %.1fs", label, seconds)
    tut_dir = work / "tutorial"
    seconds, tut = timed(_tutorial_build, files, embedder, tut_dir)
    out["tutorial_cold"] = {**_rates(seconds, len(tut.chunks), chars), "embedded_units": len(tut.chunks)}
    # The tutorial pipeline has no incremental mode: nothing changed or one file changed,
    # it re-splits and re-embeds everything, which is its cold build again.
    out["tutorial_warm"] = out["tutorial_changed"] = {**out["tutorial_cold"], "note": "full rebuild"}
    log.info("tutorial ingest: %.1fs", seconds)
    return out, root, tut_dir, tut


def _tutorial_build(files, embedder, folder: Path) -> Tutorial:
    tut = Tutorial.build(files, embedder)
    tut.save(folder)
    return tut


def _fresh_question(assistant, history: list[str]) -> None:
    """Empty the query caches, then ask the earlier turns, as the chat did before this question:
    the timed question is new to the retriever, its conversation is as warm as in a real chat."""
    from assistant.retrieval import Retriever

    Retriever.clear_caches()
    for turn in history:
        assistant.retrieve(turn)


def intervals(ours: np.ndarray, theirs: np.ndarray, n_questions: int, resamples: int = 2000) -> dict:
    """95% bootstrap intervals of the p95 ratio (ours / tutorial) and of the median paired
    difference (ours - tutorial, ms): how far a figure would move with other questions like
    these, so a tie is read as a tie. Samples are in (repetition, question) order; what is
    resampled is the question, with all its repetitions, since repetitions of one question
    are not independent draws (resampling them one by one gives intervals that are too narrow)."""
    if not len(ours):
        return {}
    from scipy.stats import bootstrap  # benchmarks only: the app does not depend on scipy

    by_q = [np.asarray(a, dtype=float).reshape(-1, n_questions).T for a in (ours, theirs)]  # (question, rep)

    def ratio(idx):
        o, t = (a[idx.astype(int)] for a in by_q)
        return np.percentile(o, 95) / np.percentile(t, 95)

    def paired_median(idx):
        o, t = (a[idx.astype(int)] for a in by_q)
        return np.median(o - t)

    def ci(statistic):
        res = bootstrap((np.arange(n_questions),), statistic, n_resamples=resamples, vectorized=False,
                        method="percentile", rng=np.random.default_rng(0))
        return [round(float(v), 3) for v in (res.confidence_interval.low, res.confidence_interval.high)]

    return {"p95_ratio": round(float(np.percentile(ours, 95) / np.percentile(theirs, 95)), 3),
            "p95_ratio_ci95": ci(ratio), "paired_median_ci95_ms": ci(paired_median),
            "ours_faster_share": round(float(np.mean(ours < theirs)), 3), "resampled": "question"}


def latency_section(root: Path, tut: Tutorial, questions: list[dict], reps: int, budget_s: float) -> dict:
    """Warm p50/p95/p99: `retrieve` alone and a full `answer`, ours and the tutorial's, interleaved."""
    from assistant.service import Assistant

    assistant = Assistant(root)
    load_s, retriever = timed(assistant.retriever)
    embedder = retriever.embedder
    assistant.warm_up()  # what the web app does before its first visitor (ui.app)
    for q in ("热身问题:群众工作的基本方法", "warm-up question"):
        assistant.retrieve(q), assistant.ask(q), tut.retrieve(q), tut.answer(q)
    ms = {k: [] for k in ("embed", "ours_retrieve", "tutorial_retrieve", "ours_answer", "tutorial_answer")}
    deadline = time.perf_counter() + budget_s
    done = 0
    for _ in range(reps):
        for n, row in enumerate(questions):
            q, hist = row["q"], row["history"]
            ms["embed"].append(1000 * timed(embedder.embed_queries, [q])[0])
            for what in ("retrieve", "answer"):
                _fresh_question(assistant, hist)
                ours = (assistant.retrieve, q, 5, hist) if what == "retrieve" else (assistant.ask, q, hist)
                theirs = (tut.retrieve, q) if what == "retrieve" else (tut.answer, q)
                # Who goes first alternates, so neither side always follows the other's work.
                for side, call in (("ours", ours), ("tutorial", theirs))[:: 1 if (n + done) % 2 else -1]:
                    ms[f"{side}_{what}"].append(1000 * timed(*call)[0])
        done += 1
        if time.perf_counter() > deadline:
            break
    out = {k: percentiles(v) for k, v in ms.items()}
    for what in ("retrieve", "answer"):  # paired by question: robust to the machine's drift
        ours, theirs = np.asarray(ms[f"ours_{what}"]), np.asarray(ms[f"tutorial_{what}"])
        diff = ours - theirs
        out[f"{what}_paired_diff_ms"] = {"median": round(float(np.median(diff)), 2),
                                         "p95": round(float(np.percentile(diff, 95)), 2)}
        out[f"{what}_intervals"] = intervals(ours, theirs, len(questions))
    out.update(repetitions=done, questions=len(questions), index_load_s=round(load_s, 3))
    return out
