"""Retrieval metrics exactly as defined in shared/eval/README.md."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from index.chars import han_count
from index.errors import ConfigError
from index.units import norm_windows, normalise

Search = Callable[[str, Sequence[str], int], list[str]]  # (question, history, k) -> passage texts


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    gold: tuple[str, ...]
    history: tuple[str, ...] = ()
    lang: str = ""


@dataclass
class Report:
    name: str
    n: int = 0
    metrics: dict = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    ms: float = 0.0
    by_lang: dict[str, "Report"] = field(default_factory=dict)  # the same figures per question language

    def to_dict(self) -> dict:
        out = {"set": self.name, "n": self.n, **self.metrics, "missed": self.missed, "ms_per_query": self.ms}
        if self.by_lang:
            out["by_lang"] = {lang: {"n": r.n, **r.metrics} for lang, r in self.by_lang.items()}
        return out


def read_questions(path: str | Path, only_set: str | None = None) -> list[Question]:
    """The questions of a JSON-lines set; with `only_set`, only the rows whose "set" field is it
    (a file of follow-ups over several indexes)."""
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read question set {path}: {exc.strerror or exc}") from exc
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if only_set is not None and row.get("set") != only_set:
                continue
            out.append(Question(str(row["id"]), row["q"], tuple(row["gold"]), tuple(row.get("history", ())),
                                row.get("lang") or guess_lang(row["q"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{no}: not a question line ({exc})") from exc
    return out


def guess_lang(text: str) -> str:
    """"zh" when CJK characters outnumber Latin letters, else "en" (for sets without a lang field)."""
    cjk = han_count(text)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return "zh" if cjk >= latin else "en"


def read_markers(path: str | Path | None) -> list[str]:
    if not path:
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [m for m in (normalise(x) for x in lines if not x.lstrip().startswith("#")) if m]


def answers(text: str, gold: Iterable[str]) -> bool:
    t = normalise(text)
    return any(normalise(g) and normalise(g) in t for g in gold)


def score_question(texts: list[str], gold: Sequence[str], markers: Sequence[str]) -> dict:
    texts = texts[:10]
    norms = [normalise(t) for t in texts]
    first = next((i for i, t in enumerate(texts) if answers(t, gold)), None)
    top5 = norms[:5]
    seen: set[str] = set()
    dups = 0
    for n in top5:
        ws = norm_windows(n)
        dups += bool(ws & seen)
        seen |= ws
    junk = sum(any(m in n for m in markers) for n in top5)
    upto = norms if first is None else norms[:first + 1]
    return {
        "hit@1": first is not None and first < 1, "hit@3": first is not None and first < 3,
        "hit@5": first is not None and first < 5, "rr": 0.0 if first is None else 1.0 / (first + 1),
        "chars": sum(len(n) for n in upto), "junk": junk, "dup": dups, "top5": len(top5),
    }


def evaluate(name: str, questions: Sequence[Question], search: Search, markers: Sequence[str] = (),
             k: int = 10) -> Report:
    rows, missed = [], []
    t0 = time.perf_counter()
    for q in questions:
        row = score_question(search(q.q, q.history, k), q.gold, markers)
        rows.append(row)
        if not row["hit@5"]:
            missed.append(q.id)
    n = len(rows)
    report = _summary(name, rows, missed)
    report.ms = round(1000 * (time.perf_counter() - t0) / max(n, 1), 1)
    langs = sorted({q.lang for q in questions if q.lang})
    if len(langs) > 1:
        report.by_lang = {lang: _summary(lang, [r for r, q in zip(rows, questions) if q.lang == lang],
                                         [q.id for r, q in zip(rows, questions) if q.lang == lang
                                          and not r["hit@5"]]) for lang in langs}
    return report


def _summary(name: str, rows: list[dict], missed: list[str]) -> Report:
    n = len(rows)
    report = Report(name=name, n=n, missed=missed)
    if not n:
        return report
    top5 = sum(r["top5"] for r in rows) or 1
    report.metrics = {
        "hit@1": round(sum(r["hit@1"] for r in rows) / n, 4),
        "hit@3": round(sum(r["hit@3"] for r in rows) / n, 4),
        "hit@5": round(sum(r["hit@5"] for r in rows) / n, 4),
        "mrr@10": round(sum(r["rr"] for r in rows) / n, 4),
        "chars_to_answer": round(sum(r["chars"] for r in rows) / n, 1),
        "junk_in_top5": round(sum(r["junk"] for r in rows) / top5, 4),
        "dup_in_top5": round(sum(r["dup"] for r in rows) / top5, 4),
    }
    return report


def format_table(reports: Sequence[Report]) -> str:
    cols = ["hit@1", "hit@3", "hit@5", "mrr@10", "chars_to_answer", "junk_in_top5", "dup_in_top5"]
    lines = ["set".ljust(22) + "n".rjust(4) + "".join(c.rjust(16) for c in cols)]
    for r in reports:
        lines.append(r.name[:22].ljust(22) + str(r.n).rjust(4)
                     + "".join(str(r.metrics.get(c, "-")).rjust(16) for c in cols))
        for lang, part in r.by_lang.items():
            lines.append(f"  {lang}".ljust(22) + str(part.n).rjust(4)
                         + "".join(str(part.metrics.get(c, "-")).rjust(16) for c in cols))
        if r.missed:
            lines.append("  missed@5: " + ", ".join(r.missed))
    return "\n".join(lines)
