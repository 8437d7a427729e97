"""Run a command and record its peak resident memory from the kernel (`ru_maxrss`).

    python -m benchmarks.maxrss OUT.json -- CMD ARGS...

A child's `ru_maxrss` starts from whatever its parent held: a process started with vfork
(Python's default) inherits the parent's high-water mark at exec, and a forked one the
parent's resident size. This launcher is small, so it forks the command from itself: the
command's own peak is what `wait4` reports. SIGTERM and SIGINT are passed on to the command.
Exits with the command's status; writes {"peak_rss_mb": ...} to OUT.json.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m benchmarks.maxrss OUT.json -- CMD ARGS...\n")
        return 2
    out, cmd = Path(argv[0]), argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    _, status, usage = os.wait4(pid, 0)
    out.write_text(json.dumps({"peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}))  # Linux: kB
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
