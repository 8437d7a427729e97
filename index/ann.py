"""FAISS index kinds for the match-unit vectors, and the size rule that picks one.

A kind is a short string recorded in the manifest (`faiss.kind`):

    "flat"                 exact inner product (every vector scanned)
    "hnsw32"               HNSW graph with M=32 (efConstruction 80, efSearch 64);
                           "hnsw32,ef128" sets efSearch
    "sq8"                  exact scan over 8-bit scalar-quantised codes
    "ivf4096,flat"         inverted lists (4096 k-means cells) over the float vectors
    "ivf4096,sq8,np48"     inverted lists over 8-bit codes, 48 cells probed per query
    "ivf4096,fp16,np48"    the same over 16-bit floats

Search-time parameters (nprobe, efSearch) are stored in the FAISS file, so a
loaded index searches as it was built. All kinds use inner product, which is
cosine on the normalised vectors the embedders return.

`choose_kind(n_units)` is the rule measured by `benchmarks/scale.py` on
clustered synthetic vectors (see the README's benchmark table): exact up to
EXACT_UNITS, above that IVF over 8-bit codes, which at 2.9M vectors kept
recall@10 >= 0.95 at a fraction of the memory and build time of HNSW.
"""
from __future__ import annotations

import math
import re

import numpy as np

EXACT_UNITS = 200_000   # up to here an exact scan costs a few ms per query: no approximation
TRAIN_PER_CELL = 40     # k-means training points per IVF cell (FAISS asks for >= 39)
KMEANS_ITER = 10        # enough for cells that only route queries; exactness comes from nprobe

_HNSW = re.compile(r"hnsw(\d*)$")
_IVF = re.compile(r"ivf(\d+)$")
_PARAM = re.compile(r"(np|ef)(\d+)$")


def choose_kind(n_units: int) -> str:
    """The index kind for `n_units` vectors (see the module docstring for the measurements)."""
    if n_units <= EXACT_UNITS:
        return "flat"
    nlist = ivf_cells(n_units)
    return f"ivf{nlist},sq8,np{max(16, nlist // 64)}"


def ivf_cells(n_units: int) -> int:
    """A power of two near 2*sqrt(n): ~4k cells at 3M vectors, each cell a few hundred vectors."""
    return int(2 ** round(math.log2(max(2 * math.sqrt(max(n_units, 1)), 16))))


def build_faiss(vectors: np.ndarray, kind: str = "flat"):
    """A FAISS index of `kind` holding `vectors` (float32 rows, normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    head, *rest = [part.strip() for part in kind.lower().split(",")]
    params = _params(kind, rest)
    if head == "flat" and not rest:
        index = faiss.IndexFlatIP(dim)
    elif head == "sq8" and not rest:
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    elif _HNSW.match(head):
        index = faiss.IndexHNSWFlat(dim, int(_HNSW.match(head).group(1) or 32), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = params.get("ef", 64)
    elif _IVF.match(head) and rest and rest[0] in ("flat", "sq8", "fp16"):
        index = _ivf(dim, int(_IVF.match(head).group(1)), rest[0], params.get("np", 16))
    else:
        raise ValueError(f"unknown faiss index kind {kind!r}")
    if not index.is_trained and len(vectors):
        _train(index, vectors)
    if len(vectors):
        index.add(vectors)
    return index


def _params(kind: str, rest: list[str]) -> dict[str, int]:
    out = {}
    for part in list(rest):
        m = _PARAM.match(part)
        if m:
            out[m.group(1)] = int(m.group(2))
            rest.remove(part)
    if any(v <= 0 for v in out.values()):
        raise ValueError(f"unknown faiss index kind {kind!r}")
    return out


def _ivf(dim: int, nlist: int, codec: str, nprobe: int):
    import faiss

    quantizer = faiss.IndexFlatIP(dim)
    if codec == "flat":
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    else:
        qtype = faiss.ScalarQuantizer.QT_8bit if codec == "sq8" else faiss.ScalarQuantizer.QT_fp16
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, qtype, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = min(nprobe, nlist)
    index.cp.niter = KMEANS_ITER
    index.cp.max_points_per_centroid = TRAIN_PER_CELL
    return index


def _train(index, vectors: np.ndarray) -> None:
    """Train on an evenly spaced sample (deterministic; the whole set when it is small)."""
    nlist = getattr(index, "nlist", 1)
    if len(vectors) < nlist:
        raise ValueError(f"{len(vectors)} vectors are too few for {nlist} IVF cells")
    want = max(nlist * TRAIN_PER_CELL, 10_000)
    step = max(1, len(vectors) // want)
    index.train(np.ascontiguousarray(vectors[::step][:want]))
