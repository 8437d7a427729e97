"""The cleaning report trainers review: what was kept, what was removed, by which rule."""
from __future__ import annotations

from index.schema import DocumentRecord

RULE_LABELS = {  # shown in the UI; unknown rules show their own name
    "site_boilerplate": "网站模板/广告",
    "page_counter": "页码/页眉页脚",
    "page_fragment_number": "分页残留编号",
    "intra_cjk_space": "中文内多余空格/换行",
    "inserted_sentence": "无关插入句",
    "watermark": "水印",
    "blank_lines": "多余空行",
}


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def cleaning_report(rec: DocumentRecord) -> dict:
    by_rule: dict[str, list[dict]] = {}
    for r in rec.removals:
        by_rule.setdefault(r["rule"], []).append(
            {"start": r["start"], "end": r["end"], "text": rec.original[r["start"]:r["end"]]})
    removed = sum(r["end"] - r["start"] for r in rec.removals)
    return {
        "doc": rec.doc, "title": rec.title, "source": rec.source,
        "chars": len(rec.original), "kept": len(rec.cleaned), "removed_chars": removed,
        "passages": rec.passages,
        "rules": {rule: {"spans": len(v), "chars": sum(x["end"] - x["start"] for x in v)}
                  for rule, v in sorted(by_rule.items())},
        "removed": by_rule,
    }


def format_report(rep: dict, full: bool = False) -> str:
    lines = [f"{rep['doc']}  《{rep['title']}》",
             f"  kept {rep['kept']} of {rep['chars']} characters, removed {rep['removed_chars']}, "
             f"{rep['passages']} passages"]
    for rule, stats in rep["rules"].items():
        lines.append(f"  {rule:<24} {stats['spans']:>4} spans {stats['chars']:>7} chars")
        if full:
            for span in rep["removed"][rule]:
                text = span["text"].replace("\n", "⏎")
                lines.append(f"      {span['start']:>7}-{span['end']:<7} {text[:120]}")
    return "\n".join(lines)
