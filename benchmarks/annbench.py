"""One FAISS index kind on one vector set, measured in a child process of its own.

    python -m benchmarks.annbench DATA_DIR KIND [--sweep 16,32,64] [--rerank 0,240] [--queries N]
        -> one JSON line per setting

DATA_DIR holds base.npy (the vectors), queries.npy and truth.npy (exact top-10 ids), and
meta.json {"real": n} when the first n queries are real question embeddings. KIND is an
`index.ann` kind, or "numpy": the exact matrix product the retriever uses below Settings.exact_units.
A child process per kind keeps memory figures apart: index memory is the resident-set
growth from before the build to after it, with the memory-mapped input released.
`--sweep` re-searches the built index at several nprobe (IVF) or efSearch (HNSW) values;
`--rerank N` re-scores the top N exactly from the memory-mapped float vectors, as a
retriever holding vectors.npy can.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

K = 10


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def recall_at_k(found: list[np.ndarray], truth: np.ndarray, k: int = K) -> float:
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth))


class NumpyExact:
    """What the retriever does below Settings.exact_units: one matrix-vector product over all units."""

    def __init__(self, vectors) -> None:
        self.vectors = np.array(vectors, dtype=np.float32)
        self.ntotal = len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        out = [self._one(q, k) for q in queries]
        return np.stack([s for s, _ in out]), np.stack([i for _, i in out])

    def _one(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        sims = self.vectors @ q
        top = np.argpartition(-sims, k)[:k]
        top = top[np.argsort(-sims[top])]
        return sims[top], top


def _build(base, kind: str):
    from index.ann import build_faiss

    return NumpyExact(base) if kind == "numpy" else build_faiss(base, kind)


def _stored_mb(index) -> float:
    import faiss

    if isinstance(index, NumpyExact):
        return index.vectors.nbytes / 2**20
    return len(faiss.serialize_index(index)) / 2**20


def _set_param(index, value: int) -> str:
    import faiss

    name = "nprobe" if hasattr(index, "nprobe") else "efSearch"
    faiss.ParameterSpace().set_index_parameter(index, name, value)
    return f"{name}={value}"


def _search_all(index, base, queries: np.ndarray, rerank: int) -> tuple[list[np.ndarray], list[float]]:
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], max(K, rerank))
        ids = ids[0][ids[0] >= 0]
        if rerank:
            ids = ids[np.argsort(-(base[ids] @ q))[:K]]
        times.append(1000 * (time.perf_counter() - t))
        found.append(ids[:K])
    return found, times


def measure(data: Path, kind: str, sweep: list[int] | None = None, reranks: tuple[int, ...] = (0,),
            n_queries: int | None = None) -> list[dict]:
    queries = np.load(data / "queries.npy")[:n_queries]
    truth = np.load(data / "truth.npy")[:n_queries]
    base = np.load(data / "base.npy", mmap_mode="r")
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = _build(base, kind)
    build = time.perf_counter() - t0
    del base
    gc.collect()
    memory = rss_mb() - rss0
    stored = _stored_mb(index)
    real = json.loads((data / "meta.json").read_text()).get("real", 0) if (data / "meta.json").exists() else 0
    base = np.load(data / "base.npy", mmap_mode="r")
    index.search(queries[:5], K)  # first touch
    rows = []
    for value, rerank in [(v, r) for v in sweep or [None] for r in reranks]:
        label = kind if value is None else f"{kind} {_set_param(index, value)}"
        found, times = _search_all(index, base, queries, rerank)
        rows.append({"kind": label + (f" +rerank{rerank}" if rerank else ""), "n": int(index.ntotal),
                     "build_s": round(build, 2), "p50_ms": round(float(np.percentile(times, 50)), 3),
                     "p95_ms": round(float(np.percentile(times, 95)), 3),
                     "recall@10": round(recall_at_k(found, truth), 4),
                     "recall@10_real": round(recall_at_k(found[:real], truth[:real]), 4) if real else None,
                     "index_mb": round(memory, 1),
                     "stored_mb": round(stored, 1),  # peak RSS: added by the caller (benchmarks.maxrss)
                     "queries": len(queries)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("kind")
    p.add_argument("--sweep", help="comma-separated nprobe or efSearch values")
    p.add_argument("--rerank", default="0", help="comma-separated candidate counts (0: no re-scoring)")
    p.add_argument("--queries", type=int)
    args = p.parse_args(argv)
    sweep = [int(x) for x in args.sweep.split(",")] if args.sweep else None
    for row in measure(args.data, args.kind, sweep, tuple(int(x) for x in args.rerank.split(",")),
                       args.queries):
        sys.stdout.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
