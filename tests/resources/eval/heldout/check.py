"""Check the held-out evaluation sets in this folder (standard library only).

Verifies file formats, counts per language and per document, the distractor
draw, and that every gold string is an exact substring of its target's text
and, after normalisation, occurs in no other document of the index the set
is evaluated on.

    python3 tests/resources/eval/heldout/check.py [--regs /work/shared/eval/regs]

Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
RESOURCES = ROOT / "tests" / "resources"
SEED = 2026
N_DOCS = 6
MIN_CHARS = 3000
PAGE_DIRS = ("cleaning", "ui")
NOT_A_TARGET = {"english_page.txt"}

errors: list[str] = []


def fail(msg: str) -> None:
    errors.append(msg)


def normalise(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LN")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            fail(f"{path.name}:{n}: bad JSON ({exc})")
    return rows


def draw_distractors(regs: Path) -> list[str]:
    """The seeded draw: sample 6, then replace short ones by further draws."""
    files = sorted(p.name for p in (regs / "distractors").glob("*.md"))
    length = {f: len(read(regs / "distractors" / f)) for f in files}
    rng = random.Random(SEED)
    drawn = rng.sample(files, N_DOCS)
    kept = [f for f in drawn if length[f] >= MIN_CHARS]
    while len(kept) < N_DOCS:
        f = rng.sample([x for x in files if x not in drawn], 1)[0]
        drawn.append(f)
        if length[f] >= MIN_CHARS:
            kept.append(f)
    return kept


def regs_index(regs: Path) -> dict[str, str]:
    docs = {f"corpus/{p.name}": read(p) for p in sorted((ROOT / "corpus").glob("*.txt"))}
    docs.update({f"plain/{p.name}": read(p) for p in sorted((regs / "plain").glob("*.md"))})
    docs.update({p.name: read(p) for p in sorted((regs / "distractors").glob("*.md"))})
    return docs


def pages_index() -> dict[str, str]:
    docs = {f"corpus/{p.name}": read(p) for p in sorted((ROOT / "corpus").glob("*.txt"))}
    for d in PAGE_DIRS:
        docs.update({p.name: read(p) for p in sorted((RESOURCES / d).glob("*.txt"))})
    return docs


def is_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def check_lang(where: str, row: dict) -> None:
    lang, q = row.get("lang"), row.get("q")
    if lang not in ("zh", "en") or not isinstance(q, str) or not q.strip():
        fail(f"{where}: needs lang zh|en and a non-empty q")
    elif (lang == "zh") != is_cjk(q):
        fail(f"{where}: lang {lang} does not match the question's script")


def check_gold(where: str, row: dict, index: dict[str, str], norm: dict[str, str]) -> None:
    gold, doc = row.get("gold"), row.get("doc")
    if doc not in index:
        fail(f"{where}: unknown doc {doc!r}")
        return
    if not isinstance(gold, list) or not 1 <= len(gold) <= 3:
        fail(f"{where}: gold must be a list of 1-3 strings")
        return
    headings = [ln for ln in index[doc].splitlines() if ln.lstrip().startswith("#")]
    for g in gold:
        ng = normalise(g) if isinstance(g, str) else ""
        if not isinstance(g, str) or not 8 <= len(g) <= 30 or len(ng) < 8:
            fail(f"{where}: gold {g!r} must be 8-30 characters (8+ normalised)")
            continue
        if g not in index[doc]:
            fail(f"{where}: gold {g!r} is not an exact substring of {doc}")
        if any(g in h for h in headings):
            fail(f"{where}: gold {g!r} is taken from a heading")
        others = [k for k, t in norm.items() if k != doc and ng in t]
        if others:
            fail(f"{where}: gold {g!r} also occurs in {', '.join(others)}")
        if ng in normalise(row["q"]):
            fail(f"{where}: the question copies gold {g!r}")


def check_questions(name: str, rows: list[dict], index: dict[str, str],
                    targets: set[str], keys: set[str]) -> None:
    norm = {k: normalise(t) for k, t in index.items()}
    for n, row in enumerate(rows, 1):
        where = f"{name}:{n}"
        if set(row) != keys:
            fail(f"{where}: keys {sorted(row)} != {sorted(keys)}")
            continue
        check_lang(where, row)
        if row["doc"] not in targets:
            fail(f"{where}: doc {row['doc']!r} is not one of this set's targets")
        check_gold(where, row, index, norm)


def count(rows: list[dict], field: str) -> dict:
    out: dict = {}
    for r in rows:
        out[r.get(field)] = out.get(r.get(field), 0) + 1
    return out


def expect(name: str, what: str, got, want) -> None:
    if got != want:
        fail(f"{name}: {what} is {got}, expected {want}")


def check_ids(sets: dict[str, list[dict]]) -> None:
    ids = [r.get("id") for rows in sets.values() for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup or not all(isinstance(i, str) and i for i in ids):
        fail(f"ids must be unique non-empty strings (duplicates: {dup})")


def check_multiturn(rows: list[dict], indexes: dict, targets: dict) -> None:
    keys = {"id", "set", "lang", "history", "q", "gold", "doc"}
    for n, row in enumerate(rows, 1):
        where = f"multiturn_heldout.jsonl:{n}"
        hist = row.get("history")
        if set(row) != keys or row.get("set") not in indexes:
            fail(f"{where}: needs keys {sorted(keys)} and set regs|pages")
            continue
        if not (isinstance(hist, list) and len(hist) == 1 and isinstance(hist[0], str)
                and hist[0].strip()):
            fail(f"{where}: history must hold exactly one earlier question")
        if hist and isinstance(hist[0], str) and (row["lang"] == "zh") != is_cjk(hist[0]):
            fail(f"{where}: history is not in the row's language")
        index = indexes[row["set"]]
        check_questions(where, [row], index, targets[row["set"]], keys)


def check_offtopic(sets: dict[str, list[dict]]) -> None:
    existing = load_jsonl(RESOURCES / "eval" / "offtopic.jsonl")
    seen: dict[str, str] = {normalise(r["q"]).lower(): "offtopic.jsonl" for r in existing}
    for name, rows in sets.items():
        expect(name, "size", len(rows), 20)
        expect(name, "languages", count(rows, "lang"), {"zh": 10, "en": 10})
        for n, row in enumerate(rows, 1):
            where = f"{name}:{n}"
            if set(row) != {"id", "lang", "q"}:
                fail(f"{where}: off-topic rows hold only id, lang, q")
                continue
            check_lang(where, row)
            key = normalise(row["q"]).lower()
            if key in seen:
                fail(f"{where}: question repeats one in {seen[key]}")
            seen[key] = name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regs", type=Path, default=Path("/work/shared/eval/regs"))
    regs = ap.parse_args().regs

    chosen = draw_distractors(regs)
    page_targets = {p.name for d in PAGE_DIRS for p in (RESOURCES / d).glob("*.txt")}
    page_targets -= NOT_A_TARGET
    indexes = {"regs": regs_index(regs), "pages": pages_index()}
    targets = {"regs": set(chosen), "pages": page_targets}
    keys = {"id", "lang", "q", "gold", "doc"}

    files = {n: load_jsonl(HERE / n) for n in (
        "regs_heldout.jsonl", "pages_heldout.jsonl", "multiturn_heldout.jsonl",
        "offtopic_calibration.jsonl", "offtopic_heldout.jsonl")}
    regs_rows, page_rows = files["regs_heldout.jsonl"], files["pages_heldout.jsonl"]
    mt_rows = files["multiturn_heldout.jsonl"]
    check_ids(files)

    check_questions("regs_heldout.jsonl", regs_rows, indexes["regs"], targets["regs"], keys)
    expect("regs_heldout.jsonl", "size", len(regs_rows), 24)
    expect("regs_heldout.jsonl", "languages", count(regs_rows, "lang"), {"zh": 12, "en": 12})
    expect("regs_heldout.jsonl", "per document", count(regs_rows, "doc"),
           {d: 4 for d in chosen})

    check_questions("pages_heldout.jsonl", page_rows, indexes["pages"], targets["pages"], keys)
    expect("pages_heldout.jsonl", "size", len(page_rows), 16)
    expect("pages_heldout.jsonl", "languages", count(page_rows, "lang"), {"zh": 8, "en": 8})

    check_multiturn(mt_rows, indexes, targets)
    expect("multiturn_heldout.jsonl", "size", len(mt_rows), 6)
    expect("multiturn_heldout.jsonl", "English rows", count(mt_rows, "lang").get("en"), 2)

    check_offtopic({n: files[n] for n in ("offtopic_calibration.jsonl",
                                          "offtopic_heldout.jsonl")})

    print(f"distractors drawn (seed {SEED}): {', '.join(chosen)}")
    print(f"regs index: {len(indexes['regs'])} documents; "
          f"pages index: {len(indexes['pages'])} documents")
    for name, rows in files.items():
        langs = count(rows, "lang")
        print(f"{name}: {len(rows)} rows (zh {langs.get('zh', 0)}, en {langs.get('en', 0)})")
    print(f"pages per document: {count(page_rows, 'doc')}")
    print(f"multiturn per set: {count(mt_rows, 'set')}")
    for e in errors:
        print("FAIL", e)
    print("OK" if not errors else f"{len(errors)} failure(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
