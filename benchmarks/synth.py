"""Larger inputs than the shipped corpus: generated documents and clustered synthetic vectors.

Documents are new recombinations of the corpus's cleaned sentences (grouped under
real section headings), so the loaders, cleaner, splitter and BM25 see real Chinese
text at any size. Vectors are mixtures around real unit vectors: each synthetic vector
is a point on the segment between a real vector and one of its near neighbours plus
isotropic noise, renormalised. Isotropic noise spreads points over more dimensions than
real sentence embeddings occupy, so approximate-search recall measured on them errs low.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

NOISE = 0.008  # per-component noise; real unit vectors vary by ~0.016 per component around their mean


def clustered_vectors(seeds: np.ndarray, n: int, rng: np.random.Generator, noise: float = NOISE,
                      chunk: int = 200_000) -> np.ndarray:
    """`n` normalised float32 vectors clustered like `seeds` (real normalised embeddings)."""
    seeds = np.ascontiguousarray(seeds, dtype=np.float32)
    near = _neighbours(seeds, 10)
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        a = rng.integers(0, len(seeds), m)
        b = near[a, rng.integers(0, near.shape[1], m)]
        t = rng.random((m, 1), dtype=np.float32)
        x = seeds[a] + t * (seeds[b] - seeds[a])
        x += rng.standard_normal(x.shape, dtype=np.float32) * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def _neighbours(seeds: np.ndarray, k: int) -> np.ndarray:
    sims = seeds @ seeds.T
    np.fill_diagonal(sims, -np.inf)
    k = min(k, len(seeds) - 1) or 1
    return np.argsort(-sims, axis=1)[:, :k]


def exact_knn(queries: np.ndarray, base: np.ndarray, k: int, block: int = 262_144) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k, `base` scanned in blocks (numpy's BLAS is several times
    faster than the one bundled with faiss-cpu on this machine)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(base), block):
        sims = queries @ np.asarray(base[start:start + block], dtype=np.float32).T
        top = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        best_s = np.hstack([best_s, np.take_along_axis(sims, top, axis=1)])
        best_i = np.hstack([best_i, top + start])
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, axis=1), np.take_along_axis(best_i, keep, axis=1)
    return best_s, best_i


def neighbour_stats(vectors: np.ndarray, sample: int = 200, seed: int = 0) -> dict:
    """Median cosine to the 1st and 10th nearest other vector: a check that data look alike."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(vectors), min(sample, len(vectors) - 1), replace=False)
    sims, _ = exact_knn(vectors[pick], vectors, 11)
    return {"nn1_cos": round(float(np.median(sims[:, 1])), 4), "nn10_cos": round(float(np.median(sims[:, 10])), 4)}


def corpus_sentences(corpus: Path) -> tuple[list[str], list[str]]:
    """(headings, sentences) of the cleaned corpus, in document order."""
    from index.settings import Settings
    from index.units import sentences
    from ingest.cleaning import clean
    from ingest.loaders import discover, load_file
    from ingest.structure import find_headings

    heads, sents = [], []
    files, _ = discover([corpus])
    for f in files:
        text = clean(load_file(f, max_bytes=Settings().max_file_bytes).text).text
        found = find_headings(text)
        heads += [text[h.start:h.end].strip() for h in found if hasattr(h, "end")]
        sents += sentences(text)
    return [h for h in heads if 2 <= len(h) <= 30] or ["一、基本情况"], sents


def generate_documents(corpus: Path, n_docs: int, seed: int = 0, sections: int = 4,
                       per_section: int = 12) -> Iterator[tuple[str, str]]:
    """(name, text) of `n_docs` new documents, each a title and a few headed sections."""
    rng = np.random.default_rng(seed)
    heads, sents = corpus_sentences(corpus)
    for i in range(n_docs):
        lines = [f"群众工作案例汇编(第{i + 1}篇)", ""]
        for s in range(sections):
            lines.append(f"{'一二三四五六七八九十'[s % 10]}、{heads[rng.integers(len(heads))].lstrip('一二三四五六七八九十、 ')}")
            picks = rng.integers(0, len(sents), per_section)
            for p in range(0, per_section, 4):
                lines.append("".join(sents[j] for j in picks[p:p + 4]))
            lines.append("")
        yield f"gen_{i:06d}.txt", "\n".join(lines)


def write_documents(corpus: Path, out: Path, n_docs: int, seed: int = 0) -> int:
    """Write generated documents to `out`; returns their total characters."""
    out.mkdir(parents=True, exist_ok=True)
    chars = 0
    for name, text in generate_documents(corpus, n_docs, seed):
        (out / name).write_text(text, encoding="utf-8")
        chars += len(text)
    return chars
