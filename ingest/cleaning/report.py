"""Characters removed per rule, and the command line that prints them for files."""
from __future__ import annotations

import argparse
import json
import sys

from ingest.cleaning.core import CleanText
from ingest.cleaning.rules import RULES, clean


def removed_by_rule(result: CleanText) -> dict[str, int]:
    """Characters removed per rule, in RULES order."""
    counts = {name: sum(r.end - r.start for r in rs) for name, rs in result.by_rule().items()}
    return {r.name: counts[r.name] for r in RULES if r.name in counts}


def _row(path: str, embed) -> dict:
    with open(path, encoding="utf-8") as f:
        original = f.read()
    result = clean(original, embed=embed)
    return {"file": path, "chars": len(original), "removed": result.removed_chars(),
            "by_rule": removed_by_rule(result)}


def main(argv: list[str] | None = None) -> int:
    """`python -m ingest.cleaning FILE... [--embed] [--json]`: removed characters per rule."""
    parser = argparse.ArgumentParser(prog="python -m ingest.cleaning", description=main.__doc__)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--embed", action="store_true", help="score inserted lines with the e5-small embedder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    embed = None
    if args.embed:
        from index.embedders import get_embedder

        embed = get_embedder("e5-small").embed_passages
    rows = [_row(path, embed) for path in args.files]
    if args.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        for row in rows:
            rules = ", ".join(f"{k} {v}" for k, v in row["by_rule"].items())
            sys.stdout.write(f"{row['file']}: {row['removed']}/{row['chars']} removed ({rules})\n")
    return 0
