"""FAISS index kinds for the match-unit vectors, and the size rule that picks one.

A kind is recorded in the manifest (`faiss.kind`): a `faiss.index_factory` description, then
optionally `|` and search-time parameters in FAISS's ParameterSpace syntax:

    "Flat"                      exact inner product (every vector scanned)
    "HNSW32"                    HNSW graph with M=32 (efConstruction 80, efSearch 64);
                                "HNSW32|efSearch=128" sets efSearch
    "SQ8"                       exact scan over 8-bit scalar-quantised codes
    "IVF4096,Flat"              inverted lists (4096 k-means cells) over the float vectors
    "IVF4096,SQ8|nprobe=48"     inverted lists over 8-bit codes, 48 cells probed per query
    "IVF4096,SQfp16|nprobe=48"  the same over 16-bit floats

Anything else `index_factory` makes is accepted too. Search-time parameters are stored in
the FAISS file, so a loaded index searches as it was built. All kinds use inner product,
which is cosine on the normalised vectors the embedders return.

`choose_kind(n_units)` is the rule measured by `benchmarks/scale.py` (clustered synthetic
vectors, 200 queries of which 27 are real question embeddings; benchmarks/README.md).
Up to `Settings.exact_units` (200k) the retriever scans every unit exactly. Above it, IVF over 16-bit floats:
at 2.86M vectors (1M passages) "IVF1024,SQfp16|nprobe=32" built in 48 s and answered in p95 9.5 ms
with recall@10 0.997 (0.989 on the real questions) in 2.1 GB, where the exact scan took
418 ms in 4.2 GB. 8-bit codes halve the memory but rounding costs recall (0.93; 0.9995 only
if the retriever re-scores the top 240 from vectors.npy). HNSW32 (at 286k vectors) took
5x the build time and 2.3x the memory of IVF and found only 0.66 of the true neighbours of
real questions: query vectors sit apart from passage vectors, and the graph walk misses them.
"""
from __future__ import annotations

import math

import numpy as np

from index.settings import Settings

TRAIN_PER_CELL = 40     # k-means training points per IVF cell (FAISS asks for >= 39)
KMEANS_ITER = 10        # enough for cells that only route queries; exactness comes from nprobe

DEFAULT_SEARCH = "nprobe=16,efSearch=64"  # unless the kind says otherwise (each where it applies)
HNSW_BUILD_EF = 80


def choose_kind(n_units: int, exact_units: int = Settings.exact_units) -> str:
    """The index kind for `n_units` vectors (see the module docstring for the measurements): up to
    `exact_units` an exact scan costs a few ms per query, so nothing is approximated."""
    if n_units <= exact_units:
        return "Flat"
    nlist = ivf_cells(n_units)
    return f"IVF{nlist},SQfp16|nprobe={max(32, nlist // 32)}"


def ivf_cells(n_units: int) -> int:
    """The power of two at or below sqrt(n): 512 cells at 286k vectors, 1024 at 1-4M, 2048 up to 16M.

    Fewer, larger cells keep k-means and assignment (the build) cheap; probing 16 of them
    still scans only ~1.5% of the vectors."""
    return int(min(2 ** 16, max(64, 2 ** math.floor(math.log2(math.sqrt(max(n_units, 1)))))))


def build_faiss(vectors: np.ndarray, kind: str = "Flat"):
    """A FAISS index of `kind` holding `vectors` (float32 rows, normalised)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = make_index(vectors.shape[1], kind)
    if not index.is_trained and len(vectors):
        _train(index, vectors)
    if len(vectors):
        index.add(vectors)
    return index


def make_index(dim: int, kind: str):
    """The empty FAISS index `kind` describes, with our build and search settings; ValueError
    for a description FAISS does not know."""
    import faiss

    description, _, search = kind.partition("|")
    try:
        index = faiss.index_factory(dim, description.strip(), faiss.METRIC_INNER_PRODUCT)
    except RuntimeError:
        raise ValueError(f"unknown faiss index kind {kind!r}") from None
    _set_search(index, DEFAULT_SEARCH, strict=False)
    if search.strip():
        _set_search(index, search.strip(), strict=True, kind=kind)
    ivf = _ivf_of(index)
    if ivf is not None:
        ivf.nprobe = min(ivf.nprobe, ivf.nlist)
        ivf.cp.niter = KMEANS_ITER
        ivf.cp.max_points_per_centroid = TRAIN_PER_CELL
    if hasattr(faiss.downcast_index(index), "hnsw"):
        faiss.downcast_index(index).hnsw.efConstruction = HNSW_BUILD_EF
    return index


def _set_search(index, params: str, strict: bool, kind: str = "") -> None:
    """Apply "name=value,..." with FAISS's ParameterSpace; a name the index does not have is an
    error only when the kind asked for it."""
    import faiss

    space = faiss.ParameterSpace()
    for part in params.split(","):
        name, _, value = part.partition("=")
        try:
            if float(value) <= 0:
                raise ValueError
            space.set_index_parameter(index, name.strip(), float(value))
        except (RuntimeError, ValueError):
            if strict:
                raise ValueError(f"unknown faiss index kind {kind!r} (search parameter {part!r})") from None


def _ivf_of(index):
    import faiss

    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _train(index, vectors: np.ndarray) -> None:
    """Train on an evenly spaced sample (deterministic; the whole set when it is small)."""
    ivf = _ivf_of(index)
    nlist = ivf.nlist if ivf is not None else 1
    if len(vectors) < nlist:
        raise ValueError(f"{len(vectors)} vectors are too few for {nlist} IVF cells")
    want = max(nlist * TRAIN_PER_CELL, 10_000)
    step = max(1, len(vectors) // want)
    index.train(np.ascontiguousarray(vectors[::step][:want]))
