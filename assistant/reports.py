"""The cleaning report trainers review: what was kept, what was removed, by which rule."""
from __future__ import annotations

from index.schema import DocumentRecord

RULE_LABELS = {  # shown in the UI; unknown rules show their own name
    "page_chrome": "网页导航/栏目/页脚、PDF 每页重复的页眉页脚",
    "invisible": "不可见字符",
    "footer_zone": "页尾相关推荐/版权",
    "running_header": "重复页眉页脚",
    "site_boilerplate": "网站模板/广告",
    "page_counter": "页码/页眉页脚",
    "title_list": "无关标题列表",
    "page_fragment_number": "分页残留编号",
    "filler_intro": "网页导语",
    "title_tag": "标题标签/扩展名",
    "dash_in_word": "字间多余连字符",
    "cjk_space": "中文内多余空格",
    "intra_cjk_space": "中文内多余空格/换行",
    "line_wrap": "段内硬换行",
    "watermark": "水印",
    "inserted_line": "无关插入行",
    "inserted_sentence": "无关插入句",
    "dangling_punct": "标点前断行",
    "whitespace": "多余空白",
    "blank_lines": "多余空行",
}


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def document_summary(rec: DocumentRecord) -> dict:
    """One library row: what a trainer needs to pick a document."""
    removed = sum(r["end"] - r["start"] for r in rec.removals)
    return {"doc": rec.doc, "title": rec.title, "chars": len(rec.original), "kept": len(rec.cleaned),
            "removed_chars": removed, "passages": rec.passages, "issuer": rec.issuer, "date": rec.date}


def cleaning_report(rec: DocumentRecord) -> dict:
    by_rule: dict[str, list[dict]] = {}
    for r in rec.removals:
        by_rule.setdefault(r["rule"], []).append(
            {"start": r["start"], "end": r["end"], "text": rec.original[r["start"]:r["end"]]})
    removed = sum(r["end"] - r["start"] for r in rec.removals)
    return {
        "doc": rec.doc, "title": rec.title, "source": rec.source,
        "chars": len(rec.original), "kept": len(rec.cleaned), "removed_chars": removed,
        "passages": rec.passages, **rec.metadata(),
        "rules": {rule: {"spans": len(v), "chars": sum(x["end"] - x["start"] for x in v)}
                  for rule, v in sorted(by_rule.items())},
        "removed": by_rule,
    }


def format_report(rep: dict, full: bool = False) -> str:
    lines = [f"{rep['doc']}  《{rep['title']}》",
             f"  kept {rep['kept']} of {rep['chars']} characters, removed {rep['removed_chars']}, "
             f"{rep['passages']} passages"]
    if rep.get("issuer") or rep.get("dates"):
        stated = ", ".join(f"{d['kind']} {d['date']}" for d in rep.get("dates", ()))
        lines.append(f"  issuer {rep.get('issuer') or '-'}; dates {stated or '-'}")
    for rule, stats in rep["rules"].items():
        lines.append(f"  {rule:<24} {stats['spans']:>4} spans {stats['chars']:>7} chars")
        if full:
            for span in rep["removed"][rule]:
                text = span["text"].replace("\n", "⏎")
                lines.append(f"      {span['start']:>7}-{span['end']:<7} {text[:120]}")
    return "\n".join(lines)
