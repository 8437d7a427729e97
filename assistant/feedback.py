"""Durable 👍/👎 feedback: one JSON line per vote, appended and fsynced; the log is never rewritten.

Every field is checked (type, size, passage ids against the index version the answer came
from) before anything is written, so a refused vote leaves no row. A vote carries an answer id:
the web app and /chat give each answer they show their own (`new_answer_id`), so two trainees
who ask the same question and get the same text vote apart; a caller that gives none gets a
digest of the index version, question, history and answer. The
same vote sent again, as a client retrying after a lost response does, is stored once. A
changed vote is a new row, and a vote taken back is a row rated "withdrawn"; the export
(`read_feedback`) keeps the standing vote per answer id: the latest row wins, withdrawn votes
are left out. Several servers may append to one log.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Sequence

from index.durable import durable_open
from index.errors import QunzhongError

_lock = threading.Lock()
RATINGS = ("up", "down")
WITHDRAWN = "withdrawn"  # the rating of a row that takes back the standing vote on its answer
MAX_TEXT = 2000        # question, comment, each history turn: the UI's input limit
MAX_ANSWER = 20_000    # an answer is a handful of clipped points; far below this
MAX_TURNS = 50
MAX_IDS = 50
_files: dict[Path, _Standing] = {}  # per feedback file: its standing votes, as far as read


class FeedbackError(QunzhongError):
    """A vote that cannot be stored as given; the message names the field."""


def new_answer_id() -> str:
    """The id of one answer as shown to one user: votes on it are that user's alone (a digest of
    the text would merge two users' votes on the same answer, and one's 👍 clicked again would
    take back the other's)."""
    return secrets.token_hex(10)


def answer_id(index_version: str, question: str, history: Sequence[str], answer: str) -> str:
    """A stable id for one answer's content (for votes sent without an id)."""
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


class _Standing:
    """What one feedback file says, read incrementally: the standing (rating, comment) per answer id.
    Only the bytes appended since the last read are parsed, so rows other servers append count."""

    def __init__(self, inode: int):
        self.inode, self.offset, self.votes = inode, 0, {}

    def update(self, path: Path) -> dict[str, tuple]:
        with open(path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        done = data.rfind(b"\n") + 1  # a torn last line is read once it is complete (or never)
        for line in data[:done].splitlines():
            row = _parse(line.decode("utf-8", errors="replace"))
            if row is not None and row.get("answer_id"):
                self.votes[row["answer_id"]] = (row["rating"], row.get("comment"))
        self.offset += done
        return self.votes


def _standing(path: Path) -> dict[str, tuple]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _files.pop(path, None)
        return {}
    known = _files.get(path)
    if known is None or known.inode != st.st_ino or st.st_size < known.offset:  # new, replaced or cut
        known = _files[path] = _Standing(st.st_ino)
    return known.update(path)


def _append(path: Path, row: dict, stored) -> dict:
    """Append `row` unless `stored(standing)` says the log already holds it (it then comes back
    with "duplicate": true)."""
    path = Path(path).absolute()
    line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
    with _lock:
        if stored(_standing(path).get(row["answer_id"])):
            return {**row, "duplicate": True}
        path.parent.mkdir(parents=True, exist_ok=True)
        with durable_open(path, "a+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size:  # after a torn last line (a crash mid-write) the row starts a line of its own
                f.seek(size - 1)
                line = (b"" if f.read(1) == b"\n" else b"\n") + line
            f.write(line)  # one write: rows appended by another server do not interleave with it
    return row


def record_feedback(path: Path, keep_comment: bool = False, **fields) -> dict:
    """Validate and append one vote (see `feedback_row` for the fields). A vote that is already
    the standing vote on its answer (same answer id, rating and comment: a client retrying) is not
    written again; the row comes back with "duplicate": true. A different vote on the same answer
    is appended and replaces the earlier one in `read_feedback`; with `keep_comment`, a changed
    vote without a comment keeps the comment of the vote it replaces (the UI's comment box is
    emptied once a vote took it)."""
    row = feedback_row(**fields)
    if keep_comment and not row["comment"]:
        with _lock:
            standing = _standing(Path(path).absolute()).get(row["answer_id"])
        if standing and standing[0] != WITHDRAWN and standing[1]:
            row["comment"] = standing[1]
    return _append(path, row, lambda standing: standing == (row["rating"], row["comment"]))


def withdraw_feedback(path: Path, **fields) -> dict:
    """Record that the vote on an answer was taken back (the same 👍/👎 clicked again): a row rated
    "withdrawn" for its answer id (the fields as for `feedback_row`, without rating or comment).
    When the answer has no standing vote nothing is written; the row comes back with "duplicate": true."""
    fields.pop("comment", None)
    row = {**feedback_row(rating=RATINGS[0], **fields), "rating": WITHDRAWN}
    return _append(path, row, lambda standing: standing is None or standing[0] == WITHDRAWN)


def check_writable(path: Path) -> None:
    """Refuse, as one FeedbackError line, a feedback log no vote could be appended to (a directory,
    a read-only file or folder), so that `serve` says so at startup rather than at the first vote.
    Nothing is created or written."""
    path = Path(path)
    try:
        if path.exists():
            with open(path, "ab"):  # opening for append changes nothing
                return
        folder = next(p for p in path.absolute().parents if p.exists())
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise FeedbackError(f"cannot write the feedback log {path} ({exc.strerror or exc}): point "
                            f"$QUNZHONG_FEEDBACK (or $QUNZHONG_DATA) at a writable file") from None


def _parse(line: str) -> dict | None:
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except ValueError:
        return None
    usable = (isinstance(row, dict) and row.get("rating") in (*RATINGS, WITHDRAWN)
              and isinstance(row.get("question"), str) and isinstance(row.get("time", ""), str)
              and isinstance(row.get("answer_id", ""), str))
    return row if usable else None


def read_log(path: Path, count_bad: bool = False):
    """Every row of the log as stored, withdrawals included. Lines that are not a row (a torn last
    line from a crash, a hand edit) are skipped; with `count_bad`, returns (rows, number skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    rows = [_parse(line) for line in lines if line.strip()]
    out = [row for row in rows if row is not None]
    return (out, len(rows) - len(out)) if count_bad else out


def current_votes(rows: Sequence[dict]) -> list[dict]:
    """The standing vote per answer id: the latest row wins and a withdrawn vote is left out; rows
    without an answer id (logs older than answer ids) each stand. In the order they were cast."""
    latest: dict = {}
    for i, row in enumerate(rows):
        key = row.get("answer_id") or i
        latest.pop(key, None)
        latest[key] = row
    return [row for row in latest.values() if row["rating"] != WITHDRAWN]


def read_feedback(path: Path, count_bad: bool = False):
    """The standing votes (`current_votes` of `read_log`): what `qunzhong feedback` exports. With
    `count_bad`, returns (votes, number of unreadable lines skipped)."""
    rows, bad = read_log(path, count_bad=True)
    return (current_votes(rows), bad) if count_bad else current_votes(rows)
