"""Where derived data that any process may rebuild is kept: $QUNZHONG_CACHE, else
$XDG_CACHE_HOME/qunzhong, else ~/.cache/qunzhong. None when there is no such place."""
from __future__ import annotations

import os
import uuid
from pathlib import Path


def cache_dir() -> Path | None:
    base = os.environ.get("QUNZHONG_CACHE")
    if not base:
        try:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qunzhong"
        except RuntimeError:  # no home directory to be found
            return None
    return Path(base)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and one rename (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
