"""FAISS index kinds: exact kinds equal brute force; approximate kinds keep recall@10 >= 0.9."""
from __future__ import annotations

import numpy as np
import pytest

from index.ann import EXACT_UNITS, build_faiss, choose_kind

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
    sims, ids = build_faiss(base, "flat").search(queries, K)
    assert (ids == _truth(base, queries)).all()
    assert np.allclose(sims, np.take_along_axis(queries @ base.T, ids, axis=1), atol=1e-5)


@pytest.mark.parametrize("kind", ["hnsw32", "sq8", "ivf128,flat,np16", "ivf128,sq8,np16", "ivf128,fp16,np16"])
def test_approximate_kinds_keep_recall(clustered, kind):
    base, queries = clustered
    _, ids = build_faiss(base, kind).search(queries, K)
    assert _recall(ids, _truth(base, queries)) >= 0.9


def test_search_parameters_survive_write_and_read(tmp_path, clustered):
    import faiss

    base, _ = clustered
    for kind, check in (("ivf64,sq8,np24", lambda ix: ix.nprobe == 24),
                        ("hnsw16,ef96", lambda ix: faiss.downcast_index(ix).hnsw.efSearch == 96)):
        faiss.write_index(build_faiss(base[:5000], kind), str(tmp_path / "x.faiss"))
        assert check(faiss.read_index(str(tmp_path / "x.faiss"))), kind


def test_choose_kind_is_exact_when_small_and_builds_when_large(clustered):
    assert choose_kind(0) == choose_kind(EXACT_UNITS) == "flat"
    kind = choose_kind(300_000)
    assert kind.startswith("ivf") and ",fp16," in kind
    base, queries = clustered
    assert build_faiss(base, kind).ntotal == len(base)  # the rule's kinds are ones build_faiss makes


@pytest.mark.parametrize("kind", ["annoy", "ivf", "ivf64", "ivf64,pq8", "flat,np4", "hnsw32,ef0"])
def test_unknown_kinds_are_refused(kind):
    with pytest.raises(ValueError):
        build_faiss(np.zeros((100, DIM), np.float32), kind)


def test_empty_flat_index():
    assert build_faiss(np.zeros((0, DIM), np.float32), "flat").ntotal == 0
