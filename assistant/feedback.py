"""Durable 👍/👎 feedback: one JSON line per vote, appended and fsynced."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Sequence

from index.durable import durable_open
from index.errors import QunzhongError

_lock = threading.Lock()
RATINGS = {"up", "down"}


def record_feedback(path: Path, *, rating: str, question: str, history: Sequence[str], answer: str,
                    passage_ids: Sequence[int], comment: str = "", index_version: str = "",
                    generated: bool = False, model: str = "", struck: Sequence[str] = ()) -> dict:
    """`generated`/`model`/`struck`: whether a language model wrote the answer, which one, and the
    sentences the citation check struck from it."""
    if rating not in RATINGS:
        raise QunzhongError(f"rating must be one of {sorted(RATINGS)}")
    row = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rating": rating, "question": question,
           "history": list(history), "answer": answer, "passage_ids": [int(i) for i in passage_ids],
           "comment": (comment or "")[:2000], "index_version": index_version,
           "generated": bool(generated), "model": str(model or ""), "struck": [str(s) for s in struck]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with _lock, durable_open(path, "a", encoding="utf-8") as f:
        f.write(line)
    return row


def read_feedback(path: Path) -> list[dict]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a torn last line from a crash is skipped, the rest stays readable
    return out
