"""Shared helpers: percentiles, resident memory, child processes, ports, paths."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PYTHON = sys.executable


def eval_file(name: str) -> Path:
    """Dev question sets: ../shared/eval, else the copy kept with the tests."""
    shared = ROOT.parent / "shared" / "eval" / name
    return shared if shared.exists() else ROOT / "tests" / "resources" / "eval" / name


def read_questions() -> list[dict]:
    """Dev questions, then the multi-turn ones (with their history)."""
    rows = []
    for name in ("dev_questions.jsonl", "dev_multiturn.jsonl"):
        for line in eval_file(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append({"q": row["q"], "history": list(row.get("history", ()))})
    return rows


def percentiles(ms: Sequence[float]) -> dict:
    a = np.asarray(ms, dtype=float)
    if not len(a):
        return {"n": 0}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"n": len(a), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "p99_ms": round(p99, 2),
            "mean_ms": round(float(a.mean()), 2)}


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def tree_rss_mb(pid: int, include_self: bool = True) -> float:
    """The resident memory of a process's children (and of itself) now, in MB."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc] * include_self + proc.children(recursive=True)
        return round(sum(p.memory_info().rss for p in procs) / 2**20, 1)
    except psutil.Error:
        return float("nan")


def with_peak(cmd: list[str], record: Path) -> list[str]:
    """`cmd` run under benchmarks.maxrss: its peak RSS (ru_maxrss) lands in `record` when it exits."""
    return [PYTHON, "-m", "benchmarks.maxrss", str(record), "--", *cmd]


def read_peak(record: Path) -> float | None:
    try:
        return json.loads(Path(record).read_text())["peak_rss_mb"]
    except (OSError, ValueError, KeyError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(data_dir: Path) -> dict:
    """Environment for a child process: data in a temp dir, never ./data."""
    env = {**os.environ, "QUNZHONG_DATA": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("QUNZHONG_INDEX", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_timed(cmd: list[str], env: dict, timeout: float = 300) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds from starting `cmd` until it exits (it must succeed)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds, proc


def machine() -> dict:
    """What the figures were measured on, including how busy it was."""
    import platform

    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_1m": round(load[0], 2), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(default)"),
            "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "(default)")}
