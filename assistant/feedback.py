"""Durable 👍/👎 feedback: one JSON line per vote, appended and fsynced.

Every field is checked (type, size, passage ids against the index version the answer came
from) before anything is written, so a refused vote leaves no row. A vote carries an answer id
(a digest of the index version, question, history and answer when the caller gives none): the
same vote sent again, as a client retrying after a lost response does, is stored once.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Sequence

from index.durable import durable_open
from index.errors import QunzhongError

_lock = threading.Lock()
RATINGS = ("up", "down")
MAX_TEXT = 2000        # question, comment, each history turn: the UI's input limit
MAX_ANSWER = 20_000    # an answer is a handful of clipped points; far below this
MAX_TURNS = 50
MAX_IDS = 50
_seen: dict[tuple, set[str]] = {}  # per feedback file (path, inode): keys of the votes it holds


class FeedbackError(QunzhongError):
    """A vote that cannot be stored as given; the message names the field."""


def answer_id(index_version: str, question: str, history: Sequence[str], answer: str) -> str:
    """A stable id for one answer, so that votes on it can be told apart from votes on others."""
    blob = json.dumps([index_version, question, list(history), answer], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _text(name: str, value, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FeedbackError(f"{name} must be a string")
    if len(value) > limit:
        raise FeedbackError(f"{name} is longer than {limit} characters")
    return value


def _ids(value, n_passages: int | None) -> list[int]:
    value = [] if value is None else value
    if not isinstance(value, (list, tuple)) or len(value) > MAX_IDS:
        raise FeedbackError(f"passage_ids must be a list of at most {MAX_IDS} integers")
    if any(isinstance(i, bool) or not isinstance(i, int) for i in value):
        raise FeedbackError("passage_ids must be integers")
    if n_passages is not None and any(not 0 <= i < n_passages for i in value):
        raise FeedbackError(f"passage_ids must be passages of the index version (0 to {n_passages - 1})")
    return list(value)


def _history(value) -> list[str]:
    value = [] if value is None else value
    if not isinstance(value, (list, tuple)) or len(value) > MAX_TURNS:
        raise FeedbackError(f"history must be a list of at most {MAX_TURNS} strings")
    return [_text("each history turn", t, MAX_TEXT) for t in value]


def feedback_row(*, rating, question, history, answer, passage_ids, comment="", index_version="",
                 n_passages: int | None = None, answer_key: str = "", generated: bool = False, model: str = "",
                 struck: Sequence[str] = ()) -> dict:
    """The row a vote would be stored as; FeedbackError naming the first bad field.
    `generated`/`model`/`struck`: whether a language model wrote the answer, which one, and the
    sentences the citation check struck from it."""
    if not isinstance(rating, str) or rating not in RATINGS:
        raise FeedbackError('rating must be "up" or "down"')
    question = _text("question", question, MAX_TEXT)
    history, answer = _history(history), _text("answer", answer, MAX_ANSWER)
    version = _text("index_version", index_version, 100)
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rating": rating, "question": question,
            "history": history, "answer": answer, "passage_ids": _ids(passage_ids, n_passages),
            "comment": _text("comment", comment, MAX_TEXT), "index_version": version,
            "answer_id": _text("answer_id", answer_key, 100) or answer_id(version, question, history, answer),
            "generated": bool(generated), "model": _text("model", model, 200),
            "struck": [_text("each struck sentence", x, MAX_TEXT) for x in list(struck)[:MAX_TURNS]]}


def _key(row: dict) -> str:
    return json.dumps([row.get("answer_id"), row.get("rating"), row.get("comment")], ensure_ascii=False)


def record_feedback(path: Path, **fields) -> dict:
    """Validate and append one vote (see `feedback_row` for the fields). A vote identical to one
    already stored (same answer id, rating and comment) is not written again; the row comes
    back with "duplicate": true."""
    row = feedback_row(**fields)
    path = Path(path)
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with _lock:
        try:
            ident = (path, os.stat(path).st_ino)
        except OSError:
            ident = (path, None)
        seen = _seen.get(ident)
        if seen is None:
            seen = _seen[ident] = {_key(r) for r in read_feedback(path)}
        if _key(row) in seen:
            return {**row, "duplicate": True}
        path.parent.mkdir(parents=True, exist_ok=True)
        with durable_open(path, "a", encoding="utf-8") as f:
            f.write(line)
        seen.add(_key(row))
        if ident[1] is None:  # the file was created just now
            _seen[(path, os.stat(path).st_ino)] = seen
    return row


def _usable(row) -> bool:
    return (isinstance(row, dict) and row.get("rating") in RATINGS and isinstance(row.get("question"), str)
            and isinstance(row.get("time", ""), str))


def read_feedback(path: Path, count_bad: bool = False):
    """The stored votes. Lines that are not a vote (a torn last line from a crash, a hand edit)
    are skipped; with `count_bad`, returns (rows, number skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    out, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if _usable(row):
            out.append(row)
        else:
            bad += 1
    return (out, bad) if count_bad else out
