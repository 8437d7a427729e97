"""How cost grows with the corpus.

Vector store: clustered synthetic unit vectors at each size (passages x units per passage,
as in the real index), our index kind (`index.ann.choose_kind`, or the retriever's exact
matrix product below Settings.exact_units) against the tutorial's exact IndexFlatIP, each built and
searched in a child process (`benchmarks.annbench`).

Ingest: a generated corpus (recombined corpus sentences) indexed with a free stand-in
embedder gives everything but the embedding per passage; the real embedder's cost per text
is measured on the same texts; together they say where the time goes and how many passages
per hour this machine indexes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CORPUS, PYTHON, ROOT, child_env, read_peak, timed, with_peak
from benchmarks.synth import clustered_vectors, exact_knn, neighbour_stats, write_documents

log = logging.getLogger(__name__)

FLAT_QUERIES_BIG = 40      # the tutorial's exact scan over millions of vectors costs ~1 s a query
CANDIDATES = ("IVF{nl},SQ8 --sweep {np} --rerank 0,240", "IVF{nl},Flat --sweep {np}")  # ours is IVF,SQfp16
SWEEP = (16, 32)
HNSW_MAX_UNITS = 400_000   # HNSW build time grows past the budget beyond this (measured at 300k)


def _annbench(data: Path, args: str, env: dict, queries: int | None = None) -> list[dict]:
    """One index kind built and searched in a child of its own; each row gets its peak RSS."""
    cmd = [PYTHON, "-m", "benchmarks.annbench", str(data), *args.split()]
    if queries:
        cmd += ["--queries", str(queries)]
    record = data / "annbench-peak.json"
    proc = subprocess.run(with_peak(cmd, record), cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode:
        raise RuntimeError(f"annbench {args} failed: {proc.stderr[-600:]}")
    peak = read_peak(record)
    return [{**json.loads(line), "peak_rss_mb": peak} for line in proc.stdout.splitlines() if line.strip()]


def make_vectors(folder: Path, seeds: np.ndarray, n_units: int, real_queries: np.ndarray | None,
                 n_queries: int) -> dict:
    """base.npy, queries.npy (real questions first, then held-out synthetic), truth.npy, meta.json."""
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    base = clustered_vectors(seeds, n_units, np.random.default_rng(n_units))
    real = real_queries if real_queries is not None else np.zeros((0, seeds.shape[1]), np.float32)
    synth = clustered_vectors(seeds, max(0, n_queries - len(real)), np.random.default_rng(n_units + 1))
    queries = np.vstack([real, synth]).astype(np.float32)
    np.save(folder / "base.npy", base)
    np.save(folder / "queries.npy", queries)
    np.save(folder / "truth.npy", exact_knn(queries, base, 10)[1])
    meta = {"units": n_units, "queries": len(queries), "real": len(real), **neighbour_stats(base),
            "generate_s": round(time.perf_counter() - t0, 1)}
    (folder / "meta.json").write_text(json.dumps(meta))
    return meta


def vector_store_section(work: Path, seeds: np.ndarray, real_queries: np.ndarray | None, sizes, upp: float,
                         n_queries: int, candidates: bool) -> dict:
    from index.ann import choose_kind, ivf_cells
    from index.settings import Settings

    env = child_env(work)
    out = {"units_per_passage": round(upp, 3), "sizes": []}
    for n in sizes:
        units = int(round(n * upp))
        folder = work / f"vectors_{n}"
        meta = make_vectors(folder, seeds, units, real_queries, n_queries)
        kind = choose_kind(units)
        ours_kind = "numpy" if kind == "Flat" and units <= Settings.exact_units else kind
        flat_q = FLAT_QUERIES_BIG if units > 1_000_000 else None
        row = {"passages": n, "units": units, "data": meta, "kind": kind,
               "ours": _annbench(folder, ours_kind, env)[0],
               "tutorial": _annbench(folder, "Flat", env, flat_q)[0]}
        if candidates and units > Settings.exact_units:
            nl = ivf_cells(units)
            sweep = ",".join(str(x) for x in SWEEP)
            row["candidates"] = [r for c in CANDIDATES for r in _annbench(folder, c.format(nl=nl, np=sweep), env)]
            if units <= HNSW_MAX_UNITS:
                row["candidates"] += _annbench(folder, "HNSW32 --sweep 32,64,128", env)
        out["sizes"].append(row)
        log.info("scale %d passages: %s", n, {k: row[k] for k in ("kind", "ours", "tutorial")})
        shutil.rmtree(folder, ignore_errors=True)
    return out


class StandInEmbedder:
    """Free, deterministic vectors (a hash of the text), counting the texts it is given."""

    name = "stand-in"
    dim = 384

    def __init__(self) -> None:
        self.texts = 0

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts) -> np.ndarray:
        self.texts += len(texts)
        return np.stack([self._vec(t) for t in texts]) if len(texts) else np.zeros((0, self.dim), np.float32)

    embed_queries = embed_passages


def ingest_scale_section(work: Path, embedder, n_docs: int, sizes, faiss_build_s: dict) -> dict:
    """Per-passage cost of ingest without and with embedding, projected to each size."""
    from assistant.retrieval import Retriever
    from index.lexical import tokenize
    from index.store import load_index
    from index.units import match_units
    from ingest.build import EMBED_BATCH, ingest

    gen = work / "generated"
    chars = write_documents(CORPUS, gen, n_docs)
    stand_in = StandInEmbedder()
    seconds, report = timed(ingest, [gen], work / "generated_index", embedder=stand_in, progress=False)
    tokenize("预热")  # jieba's one-off dictionary load (~0.7 s) is not a per-passage cost
    # What a server start costs per passage: read the version's files, BM25 from the stored counts.
    load_s, data = timed(lambda: Retriever(load_index(work / "generated_index"), stand_in).data)
    texts = [u for p in data.passages[:60] for u in match_units(p)][:96]
    embed_s, _ = timed(lambda: [embedder.embed_passages(texts[i:i + EMBED_BATCH])
                                for i in range(0, len(texts), EMBED_BATCH)])
    per_text = embed_s / len(texts)
    p = report.passages
    other = seconds / p
    embed = stand_in.texts / p * per_text
    total = other + embed
    shutil.rmtree(gen, ignore_errors=True)
    out = {"cpus": os.cpu_count(), "documents": n_docs, "passages": p, "chars": chars, "units_per_passage": round(report.embedded / p, 3),
           "embedded_texts_per_passage": round(stand_in.texts / p, 3), "ingest_without_embedding_s": round(seconds, 2),
           "non_embedding_ms_per_passage": round(1000 * other, 2), "embed_ms_per_text": round(1000 * per_text, 2),
           "embedding_ms_per_passage": round(1000 * embed, 2), "embedding_share": round(embed / total, 4),
           "passages_per_hour": int(3600 / total), "server_load_ms_per_passage": round(1000 * load_s / p, 3),
           "projection": []}
    for n in sizes:
        build = faiss_build_s.get(n, 0.0)
        hours = (n * total + build) / 3600
        out["projection"].append({"passages": n, "ingest_hours": round(hours, 2),
                                  "embedding_share": round(n * embed / (n * total + build), 4),
                                  "server_load_s": round(n * load_s / p, 1)})
    return out
