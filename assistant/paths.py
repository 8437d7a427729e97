"""The one place that decides where data lives; environment variables override."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("QUNZHONG_DATA", "data"))


def index_dir() -> Path:
    env = os.environ.get("QUNZHONG_INDEX")
    return Path(env) if env else data_dir() / "index"


def feedback_path() -> Path:
    env = os.environ.get("QUNZHONG_FEEDBACK")
    return Path(env) if env else data_dir() / "feedback.jsonl"


def default_corpus() -> Path:
    return Path(os.environ.get("QUNZHONG_CORPUS", "corpus"))
