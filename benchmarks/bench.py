"""Where time and memory go, ours against the LangChain-tutorial pipeline, in one run.

    python benchmarks/bench.py [--quick] [--only ingest,official,latency,cold,memory,load,scale]
                               [--shelf] [--out benchmarks/results/bench.json] [--clients 16]

Prints one table (ours, tutorial, ratio ours/tutorial, target) and writes the figures as
JSON. Every ratio compares two measurements from this run on this machine; shared
machines are noisy, so read the ratios first and the machine's load (recorded) second.
All indexes live in a temporary directory, never ./data.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import CORPUS, child_env, machine, read_questions, timed  # noqa: E402
from benchmarks.report import build_table  # noqa: E402

log = logging.getLogger("benchmarks")

SECTIONS = ("ingest", "official", "latency", "cold", "memory", "load", "scale")
QUICK = {"latency_reps": 3, "latency_budget_s": 30, "load_s": 15, "cli_repeats": 2, "scale_passages": (10_000, 100_000),
         "scale_queries": 100, "candidates": False, "generated_docs": 20,
         "official_reps": 2}
FULL = {"latency_reps": 5, "latency_budget_s": 240, "load_s": 60, "cli_repeats": 3,
        "scale_passages": (10_000, 100_000, 1_000_000), "scale_queries": 200, "candidates": True,
        "generated_docs": 120, "official_reps": 4}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the short run (under 5 minutes); scale at 10k and 100k only")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {','.join(SECTIONS)}")
    p.add_argument("--out", type=Path, help="JSON results (default: benchmarks/results/bench[-quick].json)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients in the load test")
    p.add_argument("--load-seconds", type=float, help="duration of the load test")
    p.add_argument("--shelf", action="store_true",
                   help="official section: also the whole regs shelf, 109 documents (about 20 minutes a pipeline)")
    p.add_argument("--reps", type=int, help="official section: repetitions of ours and the tutorial (alternating)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (indexes) for inspection")
    args = p.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.out = args.out or ROOT / "benchmarks" / "results" / ("bench-quick.json" if args.quick else "bench.json")
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        p.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def _indexes(work: Path, embedder, res: dict, need_ingest_figures: bool):
    """Ours and the tutorial's index of corpus/: from the ingest section, or built untimed."""
    from benchmarks.local import ingest_section
    from benchmarks.tutorial import Tutorial, files_of
    from ingest.build import ingest

    if need_ingest_figures:
        res["ingest"], root, tut_dir, tut = ingest_section(work, embedder)
        return root, tut_dir, tut
    root, tut_dir = work / "ours", work / "tutorial"
    ingest([CORPUS], root, embedder=embedder, progress=False)
    tut = Tutorial.build(files_of(CORPUS), embedder)
    tut.save(tut_dir)
    return root, tut_dir, tut


def run(args, cfg: dict, work: Path) -> dict:
    from index.embedders import get_embedder

    res: dict = {"mode": "quick" if args.quick else "full", "machine": machine(),
                 "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "config": {**cfg, "clients": args.clients}}
    only = set(args.only)
    load_s, embedder = timed(get_embedder, "e5-small")
    res["embedder_load_s"] = round(load_s, 3)
    res["machine"].update({k: v for k, v in machine().items() if k.startswith("omp_")})  # as the embedder set them
    questions = read_questions()
    root = tut_dir = tut = None
    if only & {"ingest", "latency", "cold", "memory", "load"}:
        root, tut_dir, tut = _indexes(work, embedder, res, "ingest" in only)
    if "official" in only:
        from benchmarks.official import official_section

        res["official"] = official_section(work / "official", embedder, args.reps or cfg["official_reps"],
                                           args.shelf)
    if "latency" in only:
        from benchmarks.local import latency_section

        res["latency"] = latency_section(root, tut, questions, cfg["latency_reps"], cfg["latency_budget_s"])
        log.info("latency: %s", {k: v for k, v in res["latency"].items() if isinstance(v, dict)})
    if only & {"cold", "memory", "load"}:
        from benchmarks.servers import cli_section, server_sections

        env = child_env(work / "data")
        res["servers"] = {}
        for which, index in (("ours", root), ("tutorial", tut_dir)):
            res["servers"][which] = server_sections(which, index, env, questions, args.clients,
                                                    args.load_seconds or cfg["load_s"], "load" in only)
        if "cold" in only:
            res["cli"] = cli_section(root, tut_dir, env, cfg["cli_repeats"])
    if "scale" in only:
        res["scale"] = _scale(work, embedder, root, questions, cfg)
    return res


def _scale(work: Path, embedder, root: Path | None, questions: list[dict], cfg: dict) -> dict:
    import numpy as np

    from benchmarks.scale import ingest_scale_section, vector_store_section
    from index.store import load_index

    if root is None:
        root = work / "ours"
        from ingest.build import ingest

        ingest([CORPUS], root, embedder=embedder, progress=False)
    data = load_index(root)
    seeds = np.asarray(data.vectors(), dtype=np.float32)
    upp = len(seeds) / max(len(data.passages), 1)
    real = embedder.embed_queries([q["q"] for q in questions])
    vectors = vector_store_section(work / "scale", seeds, real, cfg["scale_passages"], upp, cfg["scale_queries"],
                                   cfg["candidates"])
    builds = {row["passages"]: row["ours"]["build_s"] for row in vectors["sizes"]}
    ingest = ingest_scale_section(work / "scale", embedder, cfg["generated_docs"], cfg["scale_passages"], builds)
    return {"vectors": vectors, "ingest": ingest}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "faiss.loader", "gradio_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cfg = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="qunzhong-bench-"))
    t0 = time.perf_counter()
    try:
        res = run(args, cfg, work)
    finally:
        if args.keep:
            log.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    res["machine"]["loadavg_1m_end"] = machine()["loadavg_1m"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    m = res["machine"]
    print(build_table(res).render())
    print(f"\n{res['mode']} run, {res['seconds']:.0f} s on {m['cpus']} CPUs, load average {m['loadavg_1m']} -> "
          f"{m['loadavg_1m_end']} (shared machine: other work ran at the same time); "
          f"OMP_WAIT_POLICY={m['omp_wait_policy']}, GOMP_SPINCOUNT={m.get('gomp_spincount')}. JSON: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
