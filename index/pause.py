"""Deterministic pause points for the crash tests: with QUNZHONG_PAUSE_AT=STEP in the
environment, a process that reaches STEP writes `paused at STEP (pid N)` to stderr and blocks
until a line arrives on its stdin, so a test can kill -9 it exactly there (or let it go on).
Unset, as everywhere outside tests, `pause_point` does nothing."""
from __future__ import annotations

import os
import sys

ENV = "QUNZHONG_PAUSE_AT"
# The steps of an ingest, in order (index.store): lock held, nothing written; the new version's
# folder half written; the version folder complete under its final name, CURRENT not yet switched.
STEPS = ("locked", "writing", "renamed")


def pause_point(step: str) -> None:
    if os.environ.get(ENV) != step:
        return
    sys.stderr.write(f"paused at {step} (pid {os.getpid()})\n")
    sys.stderr.flush()
    sys.stdin.readline()
