"""Writes that are on disk before they return: the crash-safety of the index and the feedback log."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def durable_open(path: Path, mode: str = "wb", **kwargs) -> Iterator[IO]:
    """open(path, mode, ...) for writing; when the block ends normally the data is flushed and
    fsynced before the file is closed (an exception inside the block skips that, as before)."""
    with open(path, mode, **kwargs) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def fsync_path(path: Path) -> None:
    """fsync a file written by someone else (faiss.write_index), or a directory after entries in
    it were created, renamed or replaced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
