"""Calibrate the citation check's floors (Settings.check_dense_floor, check_lexical_floor).

For each question of the given sets: retrieve, let the model at --llm-url write an answer, split
it into cited sentences, and score every sentence (best cosine to the passage's sentences, share
of content words found in the passage) against
  - the passage it cites (as-cited pairs: what the check sees in use), and
  - a passage cited for a different question (mismatched pairs: a sentence that passage cannot
    support, whatever the sentence says).
Also scored: each cited passage's own sentences against it (copied text, must pass).
The floors are set so that at most 5% of mismatched pairs would pass; the script prints the
rates for the current settings and writes every pair to --out for inspection.

  python benchmarks/calibrate_check.py ../shared/eval/dev_questions.jsonl --index /tmp/idx \\
      --llm-url http://127.0.0.1:8080/v1 --out /tmp/check_pairs.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer import answer  # noqa: E402
from assistant.check import content_terms, missing_facts, overlap, passage_vectors, split_cited  # noqa: E402
from assistant.evaluation import read_questions  # noqa: E402
from assistant.generate import LLMConfig, build_messages, stream_text  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from index.errors import GenerationError  # noqa: E402
from ingest.splitting import unit_sentences  # noqa: E402


def score(retriever, claim: str, passage) -> dict:
    vec = retriever.embedder.embed_queries([claim])[0]
    return {"dense": float(np.max(passage_vectors(retriever, passage) @ vec)),
            "lexical": overlap(content_terms(claim), passage.context or passage.text),
            "missing": missing_facts(claim, [f"{passage.title}\n{passage.section}\n{passage.text}"])}


def generated(config: LLMConfig, q, base, cache: Path | None) -> str | None:
    """The model's answer to `q`, from the cache of earlier runs when it is there."""
    seen = {}
    if cache and cache.exists():
        seen = {r["id"]: r["text"] for r in map(json.loads, cache.read_text(encoding="utf-8").splitlines())}
    if q.id in seen:
        return seen[q.id]
    try:
        text = "".join(stream_text(config, build_messages(base.query, q.history, base.citations)))
    except GenerationError as exc:
        print(f"{q.id}: {exc.kind}", file=sys.stderr)
        return None
    if cache:
        with cache.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"id": q.id, "text": text}, ensure_ascii=False) + "\n")
    return text


def collect(retriever, config: LLMConfig, questions, cache: Path | None = None) -> list[dict]:
    rows, cited_by_q = [], []
    for q in questions:
        base = answer(retriever, q.q, q.history)
        if not base.found:
            continue
        text = generated(config, q, base, cache)
        if text is None:
            continue
        by_n = {c.n: c.hit.passage for c in base.citations}
        cited_by_q.append((q.id, by_n))
        for _, claim, cited in split_cited(text):
            for n in cited:
                if n in by_n:
                    rows.append({"q": q.id, "kind": "as-cited", "claim": claim, "pid": by_n[n].id,
                                 **score(retriever, claim, by_n[n])})
            if not cited:  # an uncited sentence still counts for the mismatched side
                rows.append({"q": q.id, "kind": "uncited", "claim": claim, "pid": -1})
        print(f"{q.id}: {len(split_cited(text))} sentences", file=sys.stderr)
    for i, (qid, by_n) in enumerate(cited_by_q):  # mismatched: a passage cited for a later question
        mine = {(p.doc, p.section) for p in by_n.values()}
        later = cited_by_q[i + 1:] + cited_by_q[:i]
        foreign = next((p for _, other in later for p in other.values() if (p.doc, p.section) not in mine), None)
        if foreign is None:
            continue
        for row in [r for r in rows if r["q"] == qid and r["kind"] in ("as-cited", "uncited")]:
            rows.append({**row, "kind": "mismatched", "pid": foreign.id,
                         **score(retriever, row["claim"], foreign)})
        for p in by_n.values():
            for sent in unit_sentences(p.text, p.section):
                rows.append({"q": qid, "kind": "own", "claim": sent, "pid": p.id, **score(retriever, sent, p)})
                rows.append({"q": qid, "kind": "own-foreign", "claim": sent, "pid": foreign.id,
                             **score(retriever, sent, foreign)})
    return rows


def passes(row, dense_floor: float, lexical_floor: float) -> bool:
    return not row["missing"] and row["dense"] >= dense_floor and row["lexical"] >= lexical_floor


def summary(rows, dense_floor, lexical_floor) -> dict:
    out = {}
    for kind in ("as-cited", "mismatched", "own", "own-foreign"):
        sel = [r for r in rows if r["kind"] == kind]
        out[kind] = {"n": len(sel), "pass": round(sum(passes(r, dense_floor, lexical_floor) for r in sel)
                                                  / max(len(sel), 1), 3)}
    return out


def sweep(rows) -> str:
    """Pass rates over a grid of floors: negatives (mismatched + own-foreign) against own and as-cited."""
    neg = [r for r in rows if r["kind"] in ("mismatched", "own-foreign")]
    lines = ["dense  lexical  negatives  own  as-cited"]
    for d in (0.80, 0.85, 0.88, 0.90):
        for lex in (0.4, 0.5, 0.6, 0.7):
            s = summary(rows, d, lex)
            rate = sum(passes(r, d, lex) for r in neg) / max(len(neg), 1)
            lines.append(f"{d:.2f}   {lex:.1f}      {rate:.3f}      {s['own']['pass']:.3f} {s['as-cited']['pass']:.3f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--llm-url", required=True)
    ap.add_argument("--llm-model", default="default")
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--out", default="")
    ap.add_argument("--texts", default="", help="JSON lines cache of generated answers (reused when present)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many questions per set")
    args = ap.parse_args()
    retriever = Assistant(args.index).retriever()
    config = dataclasses.replace(LLMConfig.from_options(args.llm_url, args.llm_model, 300, args.max_tokens),
                                 first_token_timeout=120)
    cache = Path(args.texts) if args.texts else None
    rows = [r for f in args.files
            for r in collect(retriever, config, read_questions(f)[: args.limit or None], cache)]
    if args.out:
        Path(args.out).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    mism = [r for r in rows if r["kind"] in ("mismatched", "own-foreign") and not r["missing"]]
    for name in ("dense", "lexical"):
        vals = np.array([r[name] for r in mism])
        if len(vals):
            print(f"mismatched {name}: p50 {np.percentile(vals, 50):.3f} p95 {np.percentile(vals, 95):.3f}")
    print(sweep(rows))
    s = retriever.settings
    print(json.dumps({"floors": [s.check_dense_floor, s.check_lexical_floor],
                      **summary(rows, s.check_dense_floor, s.check_lexical_floor)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
