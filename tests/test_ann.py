"""FAISS index kinds: exact kinds equal brute force; approximate kinds keep recall@10 >= 0.9."""
from __future__ import annotations

import numpy as np
import pytest

from index.ann import build_faiss, choose_kind
from index.settings import Settings

DIM = 384
K = 10


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def clustered():
    """20k vectors around 200 centres that share a common direction, as sentence embeddings do."""
    rng = np.random.default_rng(7)
    common = rng.standard_normal(DIM)
    centres = _normalise(3 * common / np.linalg.norm(common) + rng.standard_normal((200, DIM)) * 0.08)
    pick = rng.integers(0, 200, 20_200)
    points = _normalise(centres[pick] + rng.standard_normal((20_200, DIM)).astype(np.float32) * 0.02)
    return points[:20_000], points[20_000:]


def _truth(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ base.T), axis=1)[:, :K]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found.tolist(), truth.tolist())]))


def test_flat_equals_brute_force():
    rng = np.random.default_rng(0)
    base, queries = _normalise(rng.standard_normal((3000, DIM))), _normalise(rng.standard_normal((20, DIM)))
    sims, ids = build_faiss(base, "Flat").search(queries, K)
    assert (ids == _truth(base, queries)).all()
    assert np.allclose(sims, np.take_along_axis(queries @ base.T, ids, axis=1), atol=1e-5)


@pytest.mark.parametrize("kind", ["HNSW32", "SQ8", "IVF128,Flat|nprobe=16", "IVF128,SQ8|nprobe=16", "IVF128,SQfp16|nprobe=16"])
def test_approximate_kinds_keep_recall(clustered, kind):
    base, queries = clustered
    _, ids = build_faiss(base, kind).search(queries, K)
    assert _recall(ids, _truth(base, queries)) >= 0.9


def test_search_parameters_survive_write_and_read(tmp_path, clustered):
    import faiss

    base, _ = clustered
    for kind, check in (("IVF64,SQ8|nprobe=24", lambda ix: ix.nprobe == 24),
                        ("HNSW16|efSearch=96", lambda ix: faiss.downcast_index(ix).hnsw.efSearch == 96),
                        ("HNSW16", lambda ix: faiss.downcast_index(ix).hnsw.efSearch == 64)):
        faiss.write_index(build_faiss(base[:5000], kind), str(tmp_path / "x.faiss"))
        assert check(faiss.read_index(str(tmp_path / "x.faiss"))), kind


def test_choose_kind_is_exact_when_small_and_builds_when_large(clustered):
    assert choose_kind(0) == choose_kind(Settings.exact_units) == "Flat"
    kind = choose_kind(300_000)
    assert kind.startswith("IVF") and ",SQfp16|nprobe=" in kind
    base, queries = clustered
    assert build_faiss(base, kind).ntotal == len(base)  # the rule's kinds are ones build_faiss makes


@pytest.mark.parametrize("kind", ["annoy", "flat", "IVF", "IVF64", "Flat|nprobe=4", "HNSW32|efSearch=0", "HNSW32|efSearch"])
def test_unknown_kinds_are_refused(kind):
    with pytest.raises(ValueError):
        build_faiss(np.zeros((100, DIM), np.float32), kind)


def test_empty_flat_index():
    assert build_faiss(np.zeros((0, DIM), np.float32), "Flat").ntotal == 0
