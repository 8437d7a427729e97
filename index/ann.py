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

`choose_kind(n_units)` is the rule measured by `benchmarks/scale.py` (clustered synthetic
vectors, 200 queries of which 27 are real question embeddings; benchmarks/README.md).
Up to EXACT_UNITS the retriever scans every unit exactly. Above it, IVF over 16-bit floats:
at 2.86M vectors (1M passages) "ivf1024,fp16,np32" built in 48 s and answered in p95 9.5 ms
with recall@10 0.997 (0.989 on the real questions) in 2.1 GB, where the exact scan took
418 ms in 4.2 GB. 8-bit codes halve the memory but rounding costs recall (0.93; 0.9995 only
if the retriever re-scores the top 240 from vectors.npy). HNSW32 (at 286k vectors) took
5x the build time and 2.3x the memory of IVF and found only 0.66 of the true neighbours of
real questions: query vectors sit apart from passage vectors, and the graph walk misses them.
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
    return f"ivf{nlist},fp16,np{max(32, nlist // 32)}"


def ivf_cells(n_units: int) -> int:
    """The power of two at or below sqrt(n): 512 cells at 286k vectors, 1024 at 1-4M, 2048 up to 16M.

    Fewer, larger cells keep k-means and assignment (the build) cheap; probing 16 of them
    still scans only ~1.5% of the vectors."""
    return int(min(2 ** 16, max(64, 2 ** math.floor(math.log2(math.sqrt(max(n_units, 1)))))))


def build_faiss(vectors: np.ndarray, kind: str = "flat"):
    """A FAISS index of `kind` holding `vectors` (float32 rows, normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    head, codec, params = _parse(kind)
    if head == "flat":
        index = faiss.IndexFlatIP(dim)
    elif head == "sq8":
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    elif head.startswith("hnsw"):
        index = faiss.IndexHNSWFlat(dim, int(head[4:] or 32), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = params.get("ef", 64)
    else:
        index = _ivf(dim, int(head[3:]), codec, params.get("np", 16))
    if not index.is_trained and len(vectors):
        _train(index, vectors)
    if len(vectors):
        index.add(vectors)
    return index


def _parse(kind: str) -> tuple[str, str, dict[str, int]]:
    """"ivf4096,sq8,np48" -> ("ivf4096", "sq8", {"np": 48}); ValueError for anything else."""
    head, *rest = [part.strip() for part in kind.lower().split(",")]
    ivf, hnsw = _IVF.match(head), _HNSW.match(head)
    codec = rest.pop(0) if ivf and rest and rest[0] in ("flat", "sq8", "fp16") else ""
    allowed = "np" if ivf else "ef" if hnsw else ""
    params = {}
    for part in rest:
        m = _PARAM.match(part)
        if not m or m.group(1) != allowed or int(m.group(2)) <= 0 or m.group(1) in params:
            raise ValueError(f"unknown faiss index kind {kind!r}")
        params[m.group(1)] = int(m.group(2))
    if not (head in ("flat", "sq8") or hnsw or (ivf and codec and int(ivf.group(1)) > 0)):
        raise ValueError(f"unknown faiss index kind {kind!r}")
    return head, codec, params


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
