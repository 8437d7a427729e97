"""Ingest of official documents (laws and regulations as .docx, .pdf, .html, GBK .txt): ours
against the tutorial pipeline on the same files, in the same run, alternating who goes first.

Each repetition builds ours from scratch (a fresh index directory, so nothing is reused) and the
tutorial's index, one after the other; the next repetition swaps the order. The ratio is the
median of ours over the median of the tutorial's, and each pair's ratio is kept to show the
spread. Beside wall seconds, the process's CPU seconds (what the work cost, much less moved by
other programs on a busy machine) and the texts and tokens each pipeline asked the engine to
embed (counted untimed, afterwards: a figure the machine's load cannot move).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CORPUS, ROOT
from benchmarks.tutorial import Tutorial, files_of, raw_text

log = logging.getLogger(__name__)

REGS = ROOT.parent / "shared" / "eval" / "regs"
TARGET = 0.8  # issue 14: ours at most 0.8x the tutorial's ingest time


def sets(shelf: bool) -> dict[str, list[Path]]:
    """The four official documents; with `shelf`, the whole regs shelf (corpus + docs + distractors)."""
    out = {"regs docs": [REGS / "docs"]}
    if shelf:
        out["regs shelf"] = [CORPUS, REGS / "docs", REGS / "distractors"]
    return out


class Counting:
    """Passes texts to the embedder and remembers them, to count tokens after the timing."""

    def __init__(self, embedder) -> None:
        self.inner, self.name, self.dim = embedder, embedder.name, embedder.dim
        self.texts: list[str] = []

    def embed_passages(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def work(self) -> dict:
        from index.embedders import MAX_CHARS

        count = getattr(getattr(self.inner, "_model", None), "token_count", None)
        tokens = sum(count(t[:MAX_CHARS]) for t in self.texts) if count else None
        return {"texts": len(self.texts), "chars": sum(min(len(t), MAX_CHARS) for t in self.texts), "tokens": tokens}


def _ours(paths: list[Path], root: Path, embedder) -> tuple[float, dict]:
    from ingest.build import ingest

    counting = Counting(embedder)
    t0, c0 = time.perf_counter(), time.process_time()
    report = ingest(paths, root, embedder=counting, progress=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, {"cpu_s": round(cpu, 2), "passages": report.passages, "units": report.embedded,
                     **counting.work()}


def _tutorial(files: list[Path], embedder) -> tuple[float, dict]:
    counting = Counting(embedder)
    t0, c0 = time.perf_counter(), time.process_time()
    tut = Tutorial.build(files, counting)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, {"cpu_s": round(cpu, 2), "passages": len(tut.chunks), **counting.work()}


def official_section(work: Path, embedder, reps: int, shelf: bool = False) -> dict:
    out = {}
    for name, paths in sets(shelf).items():
        missing = [str(p) for p in paths if not p.is_dir()]
        if missing:
            out[name] = {"skipped": f"not found: {', '.join(missing)}"}
            continue
        files = [f for p in paths for f in files_of(p)]
        out[name] = _compare(work / name.replace(" ", "-"), paths, files, embedder, reps)
        log.info("official %s: %s", name, {k: out[name][k] for k in ("ours_s", "tutorial_s", "ratio")})
    return out


def _compare(work: Path, paths: list[Path], files: list[Path], embedder, reps: int) -> dict:
    wall: dict[str, list[float]] = {"ours": [], "tutorial": []}
    cpu: dict[str, list[float]] = {"ours": [], "tutorial": []}
    work_of: dict[str, dict] = {}
    for rep in range(reps):
        runs = [("ours", lambda: _ours(paths, work / f"ours-{rep}", embedder)),
                ("tutorial", lambda: _tutorial(files, embedder))]
        for side, run in runs[:: 1 if rep % 2 == 0 else -1]:
            seconds, w = run()
            wall[side].append(round(seconds, 2))
            cpu[side].append(w.pop("cpu_s"))
            work_of[side] = w
    def ratio(d):
        return round(float(np.median(d["ours"]) / np.median(d["tutorial"])), 3)
    return {"files": len(files), "chars": sum(len(raw_text(f)) for f in files), "ours_s": wall["ours"],
            "tutorial_s": wall["tutorial"], "ratio": ratio(wall), "ours_cpu_s": cpu["ours"],
            "tutorial_cpu_s": cpu["tutorial"], "cpu_ratio": ratio(cpu),
            "pair_ratios": [round(a / b, 3) for a, b in zip(wall["ours"], wall["tutorial"])],
            "ours_work": work_of["ours"], "tutorial_work": work_of["tutorial"], "target": TARGET}
