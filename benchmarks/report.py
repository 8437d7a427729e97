"""The printed table: every figure for ours and the tutorial pipeline, their ratio, and the target."""
from __future__ import annotations

from statistics import median
from typing import Callable


def _num(x) -> str:
    if x is None or x == "":
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "yes" if x else "no"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}"


def _ratio(ours, tut) -> str:
    if not isinstance(ours, (int, float)) or not isinstance(tut, (int, float)) or not tut:
        return "-"
    return f"{ours / tut:.3g}"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def section(self, title: str) -> None:
        self.rows.append((f"[{title}]", "", "", "", ""))

    def note(self, text: str) -> None:
        """A line printed as is, outside the columns."""
        self.rows.append((text, "", "", "", "note"))

    def add(self, label: str, ours, tut=None, target: str = "", check: Callable | None = None) -> None:
        verdict = ""
        if check is not None and ours is not None:
            verdict = " ok" if check(ours, tut) else " MISS"
        self.rows.append((label, _num(ours), _num(tut), _ratio(ours, tut), (target + verdict).strip()))

    def render(self) -> str:
        head = ("figure", "ours", "tutorial", "ours/tut", "target")
        table = [r for r in self.rows if r[4] != "note"] + [head]
        widths = [max(len(r[i]) for r in table) for i in range(5)]

        def line(r) -> str:
            if r[4] == "note":
                return r[0]
            return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) if i < 4 else c
                             for i, c in enumerate(r)).rstrip()
        return "\n".join([line(head), "-" * (sum(widths) + 8)] + [line(r) for r in self.rows])


def _get(d: dict, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def build_table(res: dict) -> Table:
    t = Table()
    if "ingest" in res:
        ing = res["ingest"]
        t.section(f"ingest of corpus/ ({ing['documents']} files, {ing['corpus_chars']:,} characters)")
        for label, key in (("cold (first build)", "cold"), ("warm (nothing changed)", "warm"),
                           (f"one document changed ({_get(ing, 'changed_document', 'doc', default='?')})", "changed")):
            o, u = ing[f"ours_{key}"], ing[f"tutorial_{key}"]
            target, check = ("<= 1 s", lambda a, b: a <= 1.0) if key == "warm" else ("", None)
            t.add(f"{label}: seconds", o["seconds"], u["seconds"], target, check)
            t.add(f"{label}: passages/s", o["passages_per_s"], u["passages_per_s"])
            t.add(f"{label}: characters/s", o["chars_per_s"], u["chars_per_s"])
        t.add("passages in the index", ing["ours_cold"]["passages"], ing["tutorial_cold"]["passages"])
        t.add("vectors embedded (cold)", ing["ours_cold"]["embedded_units"], ing["tutorial_cold"]["embedded_units"])
        changed = ing["ours_changed"]
        t.add("one document changed: vectors embedded / reused (edit indexed: "
              f"{_num(_get(ing, 'changed_document', 'edit_indexed', default=None))})",
              f"{changed['embedded_units']} / {changed.get('reused_units', 0)}", ing["tutorial_changed"]["embedded_units"])
    _official(t, res.get("official", {}))
    if "latency" in res:
        lat = res["latency"]
        t.section(f"warm latency, ms ({lat['questions']} dev questions x {lat['repetitions']})")
        for what in ("retrieve", "answer"):
            for p in ("p50", "p95", "p99"):
                target, check = (("<= 30 ms, <= tutorial", lambda a, b: a <= 30 and a <= b)
                                 if (what, p) == ("retrieve", "p95") else ("", None))
                t.add(f"{what} {p}", lat[f"ours_{what}"][f"{p}_ms"], lat[f"tutorial_{what}"][f"{p}_ms"], target, check)
        for what in ("retrieve", "answer"):
            diff = lat.get(f"{what}_paired_diff_ms")
            if diff:
                t.add(f"{what}: ours minus tutorial, same question, median", diff["median"])
            ci = lat.get(f"{what}_intervals")
            if ci:
                t.note(f"  {what}: p95 ratio {ci['p95_ratio']:.3f} (95% interval {ci['p95_ratio_ci95'][0]:.3f}-"
                       f"{ci['p95_ratio_ci95'][1]:.3f}); paired median 95% interval "
                       f"{ci['paired_median_ci95_ms'][0]:+.2f} to {ci['paired_median_ci95_ms'][1]:+.2f} ms; "
                       f"ours faster on {100 * ci['ours_faster_share']:.0f}% of questions")
        t.add("query embedding alone p50 (both)", lat["embed"]["p50_ms"], lat["embed"]["p50_ms"])
        t.add("query embedding alone p95 (both)", lat["embed"]["p95_ms"], lat["embed"]["p95_ms"])
    _servers(t, res)
    if "scale" in res:
        _scale(t, res["scale"])
    return t


def _official(t: Table, off: dict) -> None:
    for name, o in off.items():
        if "skipped" in o:
            t.note(f"[ingest of {name}] skipped: {o['skipped']}")
            continue
        t.section(f"ingest of {name} ({o['files']} files, {o['chars']:,} characters), {len(o['ours_s'])} runs each")
        t.add("seconds, median", median(o["ours_s"]), median(o["tutorial_s"]), f"<= {o['target']}x tutorial",
              lambda a, b: a <= o["target"] * b)
        t.note(f"  pairs ours/tutorial: {', '.join(f'{r:.2f}' for r in o['pair_ratios'])}")
        t.add("CPU seconds, median", median(o["ours_cpu_s"]), median(o["tutorial_cpu_s"]), f"<= {o['target']}x tutorial",
              lambda a, b: a <= o["target"] * b)
        ow, tw = o["ours_work"], o["tutorial_work"]
        t.add("passages", ow["passages"], tw["passages"])
        t.add("texts embedded", ow["texts"], tw["texts"])
        t.add("tokens embedded", ow["tokens"], tw["tokens"])


def _servers(t: Table, res: dict) -> None:
    srv = res.get("servers", {})
    o, u = srv.get("ours", {}), srv.get("tutorial", {})
    if o or "cli" in res:
        t.section("cold start, seconds")
    if o:
        t.add("serve -> port open", _get(o, "cold", "serve_to_port_s"), _get(u, "cold", "serve_to_port_s"))
        t.add("serve -> first answer", _get(o, "cold", "serve_to_first_answer_s"),
              _get(u, "cold", "serve_to_first_answer_s"), "<= 15 s", lambda a, b: a <= 15)
    cli = res.get("cli", {})
    if cli:
        t.add("search invocation -> output", _get(cli, "ours_search", "median_s"),
              _get(cli, "tutorial_search", "median_s"))
        t.add("qunzhong --help", _get(cli, "ours_help", "median_s"))
        t.add("qunzhong status", _get(cli, "ours_status", "median_s"))
        t.add("search peak RSS, MB (ru_maxrss)", _get(cli, "ours_search", "peak_rss_mb"),
              _get(cli, "tutorial_search", "peak_rss_mb"))
    if o:
        t.section("server memory, MB")
        t.add("after first answer (index loaded)", _get(o, "memory", "rss_after_first_answer_mb"),
              _get(u, "memory", "rss_after_first_answer_mb"))
        t.add("peak over its life (ru_maxrss)", _get(o, "memory", "peak_rss_mb"), _get(u, "memory", "peak_rss_mb"))
    if "load" in o:
        lo, lu = o["load"], u.get("load", {})
        t.section(f"load: {lo['clients']} concurrent clients via gradio_client, {lo['seconds']:.0f} s")
        t.add("throughput, answers/s", lo["throughput_qps"], lu.get("throughput_qps"))
        t.add("latency p50 ms", lo.get("p50_ms"), lu.get("p50_ms"))
        t.add("latency p95 ms", lo.get("p95_ms"), lu.get("p95_ms"))
        t.add("errors", lo["errors"], lu.get("errors"), "0", lambda a, b: a == 0)
        t.add("requests", lo["requests"], lu.get("requests"))


def _scale(t: Table, sc: dict) -> None:
    vs = sc.get("vectors")
    if vs:
        t.section(f"scale: vector store, synthetic clustered vectors ({vs['units_per_passage']} units/passage)")
        for row in vs["sizes"]:
            o, u, n = row["ours"], row["tutorial"], f"{row['passages']:,} passages"
            big = row["passages"] >= 1_000_000
            t.add(f"{n}: kind (ours vs flat)", o["kind"], "Flat")
            t.add(f"{n}: build s", o["build_s"], u["build_s"])
            t.add(f"{n}: search p95 ms", o["p95_ms"], u["p95_ms"], "<= 100 ms" if big else "",
                  (lambda a, b: a <= 100) if big else None)
            t.add(f"{n}: index memory MB", o["index_mb"], u["index_mb"])
            t.add(f"{n}: recall@10", o["recall@10"], u["recall@10"], ">= 0.95" if big else "",
                  (lambda a, b: a >= 0.95) if big else None)
            t.add(f"{n}: recall@10, real questions only", o.get("recall@10_real"), u.get("recall@10_real"))
        for row in vs["sizes"]:
            if row.get("candidates"):
                _candidates(t, row)
    ing = sc.get("ingest")
    if ing:
        _ingest_scale(t, ing)


def _candidates(t: Table, row: dict) -> None:
    t.section(f"ANN candidates at {row['units']:,} vectors ({row['passages']:,} passages), first row ours")
    t.note(f"  {'kind':<32}{'build s':>9}{'p95 ms':>9}{'MB':>8}{'recall@10':>11}{'real q.':>9}")
    for c in [row["ours"]] + row["candidates"]:
        real = c.get("recall@10_real")
        t.note(f"  {c['kind']:<32}{c['build_s']:>9.1f}{c['p95_ms']:>9.2f}{c['stored_mb']:>8.0f}"
               f"{c['recall@10']:>11.3f}{real if real is not None else '-':>9}")


def _ingest_scale(t: Table, ing: dict) -> None:
    t.section(f"scale: ingest cost per passage (generated corpus, {ing['passages']:,} passages)")
    t.add("non-embedding ms/passage", ing["non_embedding_ms_per_passage"])
    t.add("embedding ms/passage", ing["embedding_ms_per_passage"])
    t.add("embedding share of ingest", ing["embedding_share"])
    t.add(f"passages/hour on this {ing.get('cpus', '?')}-CPU machine", ing["passages_per_hour"])
    t.add("server index load ms/passage (files, BM25 from stored counts)", ing["server_load_ms_per_passage"])
    for p in ing["projection"]:
        t.add(f"{p['passages']:,} passages: ingest hours", p["ingest_hours"],
              target=f"embedding {100 * p['embedding_share']:.1f}% of it")
        t.add(f"{p['passages']:,} passages: server index load s", p["server_load_s"])
