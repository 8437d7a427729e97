"""Sections that run real processes: cold start, CLI start-up, server memory and concurrent load.

A server (ours: `python -m assistant serve`; the tutorial's: `python -m benchmarks.tutorial
serve`, both Gradio with the same queue) is started, timed to its first answer through
gradio_client, sampled for resident memory throughout, then loaded by N clients.
"""
from __future__ import annotations

import contextlib
import logging
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

from benchmarks.common import PYTHON, ROOT, free_port, percentiles, read_peak, run_timed, tree_rss_mb, with_peak

log = logging.getLogger(__name__)

FIRST_QUESTION = "遇到情绪激动的上访群众应该怎么接待?"


def ours_serve_cmd(index: Path, port: int) -> list[str]:
    return [PYTHON, "-m", "assistant", "serve", "--index", str(index), "--port", str(port)]


def tutorial_serve_cmd(index: Path, port: int) -> list[str]:
    return [PYTHON, "-m", "benchmarks.tutorial", "serve", "--index", str(index), "--port", str(port)]


def _connect(url: str, proc: subprocess.Popen, timeout: float):
    from gradio_client import Client

    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read()[-800:]}")
        try:
            return Client(url, verbose=False)
        except Exception:  # not listening yet: gradio_client raises several kinds
            if time.perf_counter() > deadline:
                raise RuntimeError(f"server at {url} did not answer within {timeout:.0f}s")
            time.sleep(0.1)


@contextlib.contextmanager
def running_server(cmd_for_port, env: dict, timeout: float = 180) -> Iterator[dict]:
    """Start a server; yield {url, seconds to first answer, RSS after it}; stop it on exit and
    set the yielded dict's `peak_rss_mb` (the server's ru_maxrss over its whole life)."""
    import tempfile

    import gradio_client  # noqa: F401  (imported before the clock starts)

    port = free_port()
    record = Path(tempfile.mkstemp(suffix=".json")[1])
    t0 = time.perf_counter()
    proc = subprocess.Popen(with_peak(cmd_for_port(port), record), env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    srv: dict = {}
    try:
        url = f"http://127.0.0.1:{port}/"
        client = _connect(url, proc, timeout)
        ready = time.perf_counter() - t0
        result = client.predict(FIRST_QUESTION, [], api_name="/chat")
        first = time.perf_counter() - t0
        if not isinstance(result, dict) or "error" in result:
            raise RuntimeError(f"first answer failed: {str(result)[:300]}")
        time.sleep(0.3)
        srv.update(url=url, ready_s=round(ready, 2), first_answer_s=round(first, 2),
                   rss_after_first_mb=tree_rss_mb(proc.pid, include_self=False),  # not the launcher
                   rss_now=lambda: tree_rss_mb(proc.pid, include_self=False))
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        srv["peak_rss_mb"] = read_peak(record)
        record.unlink(missing_ok=True)


def load_test(url: str, questions: list[dict], clients: int, duration: float) -> dict:
    """`clients` threads, each with its own gradio_client, asking in a loop for `duration` seconds."""
    from gradio_client import Client

    conns = [Client(url, verbose=False) for _ in range(clients)]
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(i: int, client) -> None:
        start.wait()
        n = i
        while time.perf_counter() < stop_at[0]:
            row = questions[n % len(questions)]
            n += clients
            t = time.perf_counter()
            try:
                out = client.predict(row["q"], row["history"], api_name="/chat")
                err = out.get("error") if isinstance(out, dict) else "not a dict"
            except Exception as exc:  # every failure counts, whatever its kind
                err = f"{type(exc).__name__}: {exc}"
            with lock:
                lat.append(1000 * (time.perf_counter() - t))
                if err:
                    errors.append(str(err)[:200])

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + duration
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(timeout=duration + 300)
    elapsed = time.perf_counter() - t0
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(lat), "errors": len(errors),
            "throughput_qps": round(len(lat) / elapsed, 2), **percentiles(lat),
            "error_samples": sorted(set(errors))[:3]}


def soak(url: str, rss_now, requests: int, every: int = 250) -> dict:
    """`requests` questions through the REST route (`/gradio_api/call/chat`, a new session per call,
    as curl or a script would ask), resident memory recorded every `every` requests: a server that
    keeps per-session state without bound grows linearly here (KB per request = the slope)."""
    import httpx

    points, errors = [], 0
    with httpx.Client(base_url=url, timeout=120) as http:
        for n in range(1, requests + 1):
            event = http.post("gradio_api/call/chat", json={"data": [FIRST_QUESTION, []]}).json()["event_id"]
            body = http.get(f"gradio_api/call/chat/{event}").text
            errors += "event: complete" not in body
            if n % every == 0:
                points.append((n, rss_now()))
    (n0, r0), (n1, r1) = points[0], points[-1]
    return {"requests": requests, "errors": errors, "rss_mb": {n: round(r, 1) for n, r in points},
            "kb_per_request_after_first_block": round((r1 - r0) * 1024 / max(1, n1 - n0), 2)}


def soak_section(index: Path, env: dict, requests: int) -> dict:
    with running_server(lambda port: ours_serve_cmd(index, port), env) as srv:
        return soak(srv["url"], srv["rss_now"], requests)


def server_sections(which: str, index: Path, env: dict, questions: list[dict], clients: int,
                    duration: float, do_load: bool) -> dict:
    """Cold start to first answer, memory, and (optionally) load, for one server."""
    cmd = ours_serve_cmd if which == "ours" else tutorial_serve_cmd
    with running_server(lambda port: cmd(index, port), env) as srv:
        out = {"cold": {"serve_to_port_s": srv["ready_s"], "serve_to_first_answer_s": srv["first_answer_s"]}}
        load = load_test(srv["url"], questions, clients, duration) if do_load else None
        if load:
            out["load"] = load
    out["memory"] = {"rss_after_first_answer_mb": srv["rss_after_first_mb"], "peak_rss_mb": srv["peak_rss_mb"]}
    log.info("%s server: %s", which, out)
    return out


def cli_section(ours_index: Path, tut_index: Path, env: dict, repeats: int) -> dict:
    """Seconds from invoking a command to its output (a fresh process each time; OS file cache warm)."""
    q = FIRST_QUESTION
    cmds = {
        "ours_search": [PYTHON, "-m", "assistant", "search", q, "--index", str(ours_index), "--json"],
        "tutorial_search": [PYTHON, "-m", "benchmarks.tutorial", "search", q, "--index", str(tut_index)],
        "ours_help": [PYTHON, "-m", "assistant", "--help"],
        "ours_status": [PYTHON, "-m", "assistant", "status", "--index", str(ours_index), "--json"],
    }
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            times[name].append(run_timed(cmd, env)[0])
    return {name: {"median_s": round(statistics.median(v), 3), "runs": [round(x, 3) for x in v],
                   "peak_rss_mb": cli_peak_mb(cmds[name], env)}
            for name, v in times.items()}


def cli_peak_mb(cmd: list[str], env: dict) -> float | None:
    """One more run of `cmd`, untimed, under benchmarks.maxrss: its peak RSS in MB."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "peak.json"
        run_timed(with_peak(cmd, record), env)
        return read_peak(record)


if __name__ == "__main__":  # python -m benchmarks.servers INDEX [REQUESTS]: the memory soak alone
    import json
    import os
    import sys

    print(json.dumps(soak_section(Path(sys.argv[1]), dict(os.environ), int(sys.argv[2]) if len(sys.argv) > 2 else 3000)))
