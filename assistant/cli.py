"""The `qunzhong` command. Heavy imports happen inside each command, so --help is instant."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from assistant import paths
from index.errors import ConfigError, GenerationError, QunzhongError

EXAMPLES = """examples:
  qunzhong ingest                          # index corpus/ into ./data/index (incremental)
  qunzhong ingest my_docs/ --full          # rebuild from scratch
  qunzhong search 遇到情绪激动的上访群众应该怎么接待? --json
  qunzhong search --batch questions.jsonl --json --k 10
  qunzhong ask "How should I handle an emotionally agitated petitioner?"
  qunzhong ask 那以后再出这种事,应该怎么应对? --history 遇到情绪激动的上访群众应该怎么接待?
  qunzhong eval ../shared/eval/dev_questions.jsonl ../shared/eval/dev_multiturn.jsonl
  qunzhong report 000_f86c8a067ffc5ca9.txt # what the cleaner removed, and why
  qunzhong serve                           # web UI on http://127.0.0.1:7860
"""


def _bounded(kind, low, high=None):
    """An argparse type: a number of `kind` in [low, high], else a one-line usage error."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value < low or (high is not None and value > high):  # NaN fails too
            raise argparse.ArgumentTypeError(f"must be {'between' if high else 'at least'} {low}"
                                             f"{f' and {high}' if high else ''}, not {text}")
        return value
    return parse


K = _bounded(int, 1, 1000)
PORT = _bounded(int, 1, 65535)


def _out(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _index(args) -> Path:
    return Path(args.index) if args.index else paths.index_dir()


def _assistant(args):
    overrides = _settings(args)  # a bad --setting fails before the model loads
    from assistant.service import Assistant

    return Assistant(_index(args), settings=overrides)


def _settings(args) -> dict:
    """The --setting NAME VALUE overrides, type-checked against the settings table."""
    from index.settings import Settings

    return Settings.parse_overrides(getattr(args, "setting", None))


class _HelpSettings(argparse.Action):
    """--help-settings: the settings table (name, default, help), then exit."""

    def __call__(self, parser, namespace, values, option_string=None):
        from index.settings import Settings

        rows = [(name, repr(default), ("[ingest] " if name in Settings.INGEST_FIELDS else "") + help_)
                for name, _, default, help_ in Settings.table()]
        width = [max(len(r[i]) for r in rows) for i in (0, 1)]
        sys.stdout.write("".join(f"{n:<{width[0]}}  {d:<{width[1]}}  {h}\n" for n, d, h in rows))
        parser.exit()


def _llm(args):
    """The language-model configuration from --llm-* (None when no --llm-url: extractive answers)."""
    from assistant.generate import LLMConfig

    config = LLMConfig.from_options(args.llm_url, args.llm_model, args.llm_timeout, args.llm_max_tokens)
    if config is None or config.model:
        return config
    try:  # without --llm-model, the endpoint's own model; an endpoint serving several must be told
        return config.named()
    except GenerationError as exc:
        if exc.kind == "model":
            raise ConfigError(str(exc)) from exc
        return config  # not reachable now: asked again at the first answer, which falls back meanwhile


def _llm_options(sp) -> None:
    g = sp.add_argument_group("language model (optional; the key is read from $QUNZHONG_LLM_API_KEY)")
    g.add_argument("--llm-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)")
    g.add_argument("--llm-model", help="model name at that endpoint")
    g.add_argument("--llm-timeout", type=float, metavar="S",
                   help="seconds for a whole answer (default 30; first token within min(10, S))")
    g.add_argument("--llm-max-tokens", type=int, metavar="N", help="most tokens per answer (default 512)")


def cmd_ingest(args) -> int:
    from index.embedders import load_progress
    from index.settings import Settings
    from ingest.build import NothingIndexedError, ingest, recorded_sources
    from ingest.loaders import SUPPORTED_SUFFIXES, named_skips

    # No paths: what the index was built from (`ingest --full --index DIR` rebuilds it as it
    # was, not from the demo corpus, which --full would have made its only content).
    recorded = [] if args.paths else recorded_sources(_index(args))
    gone = [p for p in recorded if not Path(p).exists()]
    for p in gone:  # what was indexed from it stays; --prune with the folders named removes it
        print(f"warning: {p}, which this index was built from, is gone; what it held stays indexed", file=sys.stderr)
    sources = args.paths or [p for p in recorded if p not in gone] or [str(paths.default_corpus())]
    if not args.paths and not args.quiet:
        print(f"indexing {', '.join(sources)}", file=sys.stderr)
    settings = Settings(max_file_bytes=int(args.max_file_mb * 1024 * 1024))
    # A file named by itself that will not be indexed is told at once, even if the run then fails
    # (--strict lists it in its error instead).
    told = [] if args.strict else named_skips(sources)
    for s in told:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    try:
        with load_progress(not args.quiet):
            report = ingest(sources, _index(args), embedder_name=args.embedder, settings=settings,
                            full=args.full, strict=args.strict, wait=args.wait, progress=not args.quiet,
                            prune=args.prune)
    except NothingIndexedError as exc:  # say why each file was skipped, then fail
        _tell_skipped(exc.report, told)
        if exc.report.passed_over:
            print(f"{exc.report.passed_over_text()}: qunzhong reads {' '.join(sorted(SUPPORTED_SUFFIXES))} (save a .doc as .docx)", file=sys.stderr)
        raise
    _tell_skipped(report, told)
    for folder in report.empty_folders:
        print(f"warning: {folder} holds no file to index now (not mounted, or emptied?): its documents "
              f"stay indexed; --prune removes them", file=sys.stderr)
    if report.kept:
        print(f"kept {len(report.kept)} document(s) indexed from paths not named in this run "
              f"(--prune removes them)", file=sys.stderr)
    if args.json:
        _out(report.to_dict())
    else:
        print(f"{'indexed' if report.written else 'up to date:'} {report.summary()} -> {report.index}")
    return 0


def _tell_skipped(report, told) -> None:
    for s in report.skipped:
        if s not in told:
            print(f"skipped {s.path}: {s.reason}", file=sys.stderr)


def _searched(assistant, query: str, k: int, history, floor: bool) -> tuple[list[dict], bool]:
    """(hits as JSON rows, is the question relevant), from one retrieval. Each hit says whether
    it clears the relevance floor `ask` applies; with `floor`, a question below it has no hits."""
    retriever = assistant.retriever()
    found = retriever.search(query, k=k, history=history)
    cut = retriever.settings.relevance_floor
    relevant = found.relevant(cut)
    if floor and not relevant:
        return [], False
    return [{**h.public(), "source_relative": public_source(h.passage.source, retriever),
             "relevant": bool(h.dense - found.background >= cut), "cited": i < found.cited}
            for i, h in enumerate(found.hits)], relevant


def public_source(source: str, retriever) -> str:
    """A passage's file as scripts see it: relative to the indexed folder it came from."""
    from assistant.service import relative_source

    return relative_source(source, retriever.data.manifest.get("sources"))


def cmd_search(args) -> int:
    assistant = _assistant(args)
    if args.batch:
        return _search_batch(assistant, args)
    if not args.query:
        raise QunzhongError("search needs a QUERY or --batch FILE")
    hits, _ = _searched(assistant, " ".join(args.query), args.k, args.history or (), not args.no_floor)
    if args.json:
        _out(hits)
        return 0
    if not hits:
        print("未找到相关内容。")
    for h in hits:
        flag = "  (问题所引条文)" if h["cited"] else "" if h["relevant"] else "  (低于相关度下限)"
        print(f"[{h['rank']}] {h['score']:.3f}  {h['citation']}  ({h['doc']} {h['start']}-{h['end']}){flag}")
        print(f"    {h['text']}\n")
    return 0


def _search_batch(assistant, args) -> int:
    try:
        lines = Path(args.batch).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QunzhongError(f"cannot read batch file {args.batch}: {exc.strerror or exc}") from exc
    rows = []  # every line is read before any is answered: a bad line fails the run with no partial output
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((row["id"], row["q"], row.get("history") or []))
        except (ValueError, KeyError, TypeError):
            raise QunzhongError(f"{args.batch}:{no}: expected a JSON object with \"id\" and \"q\"") from None
    assistant.retriever()  # load the model and index once, before timing
    for qid, q, history in rows:
        t0 = time.perf_counter()
        try:
            # Batch lines always list the ranking (scripts and evaluations measure it) and say in
            # `relevant` whether `ask` would answer; --no-floor is accepted and changes nothing.
            hits, relevant = _searched(assistant, q, args.k, history, False)
            error = None
        except QunzhongError as exc:
            hits, relevant, error = [], False, str(exc)
        ms = round(1000 * (time.perf_counter() - t0), 2)
        _out({"id": qid, "hits": hits, "ms": ms, "relevant": relevant, **({"error": error} if error else {})})
    return 0


def cmd_ask(args) -> int:
    from assistant.service import public_answer

    assistant = _assistant(args)
    llm = _llm(args)
    if llm is not None:
        return _ask_generated(assistant, llm, args)
    retriever = assistant.retriever()
    result = assistant.ask(" ".join(args.question), history=args.history or (), retriever=retriever)
    if args.json:
        _out(public_answer(retriever, result))
        return 0
    print(result.text)
    for c in result.citations:
        p = c.hit.passage
        print(f"\n[{c.n}] {p.citation} ({c.label})\n    {p.text}")
    return 0


def _ask_generated(assistant, llm, args) -> int:
    from assistant.generate import reply

    result = reply(assistant.retriever(), llm, " ".join(args.question), args.history or ())
    if args.json:
        _out(result.to_dict())
        return 0
    print(result.text)
    for s in result.struck:
        print(f"〔未核实,已删去:{s.reason}〕{s.claim}")
    for c in result.base.citations:
        p = c.hit.passage
        print(f"\n[{c.n}] {p.citation} ({c.label})\n    {p.text}")
        for claim in result.supports(c.n):
            print(f"    ✓ {claim}")
    return 0


def cmd_export(args) -> int:
    from assistant.service import relative_source
    from index.store import load_index

    data = load_index(_index(args))
    sources = data.manifest.get("sources")
    for p in data.passages:
        _out({"id": p.id, **p.public(), "date": p.date, "source_relative": relative_source(p.source, sources),
              "also": [loc.__dict__ for loc in p.also]})
    return 0


def cmd_status(args) -> int:
    from index.store import load_index

    data = load_index(_index(args))
    m = data.manifest
    info = {"index": str(_index(args)), "version": data.version, "embedder": m["embedder"]["name"],
            "dim": m["embedder"]["dim"], "documents": len(m.get("documents", {})),
            "passages": len(data.passages), "built_at": m.get("created"), "app_version": m.get("app_version"),
            "settings": m.get("settings", {}), "cleaning": _cleaning_summary(data)}
    info.update(_pipeline_status(m))
    info["llm"] = _llm_status(args)
    if args.json:
        _out(info)
        return 0
    print(f"index      {info['index']} ({info['version']})\nembedder   {info['embedder']} "
          f"(dim {info['dim']})\ndocuments  {info['documents']}\npassages   {info['passages']}\n"
          f"built at   {info['built_at']}")
    if info["reindex_due"]:
        print(f"pipeline   {info['pipeline_version']}, older than this release's {info['pipeline_current']}: "
              f"`qunzhong ingest` (no path: the recorded sources) re-reads every document, reusing vectors")
    llm = info["llm"]
    if not llm["configured"]:
        print("llm        not configured (extractive answers)")
    else:
        state = "reachable" if llm["reachable"] else f"NOT reachable: {llm['error']}"
        if llm.get("unlisted"):
            state += f", but it does not list this model (it lists {', '.join(llm['models'])}): some servers refuse it"
        model = llm["model"] or (f"none chosen (serves {', '.join(llm['models']) or 'no model'}: name one with "
                                 "--llm-model)" if llm["reachable"] else "the endpoint's own model")
        print(f"llm        {model} at {llm['url']}: {state}")
    return 0


def _pipeline_status(manifest: dict) -> dict:
    """Which ingest pipeline built the index, and whether this release reads files otherwise (an
    upgrade: the next ingest processes every document again)."""
    from ingest.build import PIPELINE_VERSION

    built = int(manifest.get("pipeline_version", 1))
    return {"pipeline_version": built, "pipeline_current": PIPELINE_VERSION, "reindex_due": built < PIPELINE_VERSION}


def _llm_status(args) -> dict:
    from assistant.generate import LLMConfig, probe

    return probe(LLMConfig.from_options(args.llm_url, args.llm_model, args.llm_timeout, args.llm_max_tokens))


def _cleaning_summary(data) -> dict:
    from assistant.reports import cleaning_report

    return {doc: {k: v for k, v in cleaning_report(rec).items() if k != "removed"}
            for doc, rec in data.documents.items()}


def cmd_report(args) -> int:
    from assistant.reports import cleaning_report, format_report
    from index.store import load_index

    data = load_index(_index(args))
    docs = data.documents
    if args.doc:
        match = [d for d in docs if d == args.doc or Path(d).name == args.doc or d.startswith(args.doc)]
        if not match:
            raise QunzhongError(f"no indexed document {args.doc!r}; see `qunzhong status --json`")
        docs = {d: docs[d] for d in match}
    reports = [cleaning_report(rec) for rec in docs.values()]
    if args.json:
        _out(reports)
    else:
        print("\n\n".join(format_report(r, full=bool(args.doc)) for r in reports))
    return 0


def cmd_eval(args) -> int:
    from assistant.evaluation import evaluate, format_table, read_markers, read_questions

    assistant = _assistant(args)
    retriever = assistant.retriever()
    markers = read_markers(args.junk) if args.junk else []
    if not args.junk:
        guess = Path(args.files[0]).parent / "dev_junk_markers.txt"
        markers = read_markers(guess) if guess.exists() else []

    def search(q, history, k):
        return [h.passage.text for h in retriever.retrieve(q, k=k, history=history)]

    reports = [evaluate(Path(f).stem, read_questions(f), search, markers, k=args.k) for f in args.files]
    checked = _eval_answers(retriever, _llm(args), args.files) if args.answers else None
    if args.json:
        _out([{**r.to_dict(), **({"answers": a} if checked else {})} for r, a in zip(reports, checked or reports)])
    else:
        print(format_table(reports))
        if checked:
            from assistant.generate import format_check_table

            print("\n" + format_check_table([r.name for r in reports], checked))
    return 0


def _eval_answers(retriever, llm, files) -> list[dict]:
    """`eval --answers`: per set, how many generated sentences passed the citation check."""
    from assistant.evaluation import read_questions
    from assistant.generate import answer_check_report

    if llm is None:
        raise QunzhongError("eval --answers needs a language model: --llm-url URL [--llm-model NAME]")
    return [answer_check_report(retriever, llm, read_questions(f)) for f in files]


def cmd_serve(args) -> int:
    check_port(args.host, args.port)  # before gradio and the model load: one line, at once
    from ui.app import serve  # the CLI edge is where the web layer is started

    serve(_index(args), host=args.host, port=args.port, auth=args.auth, auth_file=args.auth_file, llm=_llm(args),
          settings=_settings(args))
    return 0


def check_port(host: str, port: int) -> None:
    """Refuse a port the server could not listen on, as one line."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            s.bind((host, port))
    except OSError as exc:
        raise QunzhongError(f"cannot serve on {host}:{port} ({exc.strerror or exc}): "
                            f"pass another --port or --host") from None


def cmd_feedback(args) -> int:
    from assistant.feedback import read_feedback

    path = paths.feedback_path()
    rows, bad = read_feedback(path, count_bad=True)
    if bad:
        print(f"skipped {bad} unreadable line(s) in {path}", file=sys.stderr)
    if args.json:
        for row in rows:
            _out(row)
        return 0
    for row in rows:
        print(f"{row['time']}  {row['rating']:>4}  {row['question']}  {row.get('comment') or ''}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="qunzhong", description="群众工作助手: cited answers from your documents.",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", help="log diagnostics to stderr")
    p.add_argument("--help-settings", action=_HelpSettings, nargs=0, help="list every setting with its default and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name, fn, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--index", help="index directory (default: $QUNZHONG_INDEX or ./data/index)")
        sp.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log diagnostics to stderr")
        if name in ("search", "ask", "eval", "serve"):
            sp.add_argument("--setting", nargs=2, action="append", metavar=("NAME", "VALUE"),
                            help="change a query-time setting for this run (repeatable; see --help-settings)")
        return sp

    sp = cmd("ingest", cmd_ingest, "index files or folders (default: corpus/), incrementally")
    sp.add_argument("paths", nargs="*", help="files or folders (.txt .md .docx .pdf .html)")
    sp.add_argument("--embedder", help="e5-small (default) or st:MODEL_NAME_OR_PATH")
    sp.add_argument("--full", action="store_true",
                    help="rebuild every document from PATHS only (documents indexed from elsewhere leave)")
    sp.add_argument("--prune", action="store_true",
                    help="also remove documents indexed from paths not named in this run")
    sp.add_argument("--strict", action="store_true", help="fail if any file cannot be indexed")
    sp.add_argument("--wait", action="store_true", help="wait for another ingest instead of exiting")
    sp.add_argument("--max-file-mb", type=_bounded(float, 0.001, 1024 * 1024), default=50, metavar="MB",
                    help="skip (and report) files larger than this (default: 50)")
    sp.add_argument("--json", action="store_true", help="print the summary as JSON")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    sp = cmd("search", cmd_search, "show the passages that match a question")
    sp.add_argument("query", nargs="*")
    sp.add_argument("--k", type=K, default=5, help="how many passages (1-1000, default 5)")
    sp.add_argument("--history", nargs="*", help="earlier user turns, oldest first")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--batch", help="JSON lines {id, q, history}: one JSON line out per question")
    sp.add_argument("--no-floor", action="store_true",
                    help="show hits even when none clears the relevance floor `ask` applies (diagnostics)")

    sp = cmd("ask", cmd_ask, "answer a question with cited points")
    sp.add_argument("question", nargs="+")
    sp.add_argument("--history", nargs="*", help="earlier user turns, oldest first")
    sp.add_argument("--json", action="store_true")
    _llm_options(sp)

    cmd("export", cmd_export, "every indexed passage as JSON lines")
    sp = cmd("status", cmd_status, "what the index holds")
    sp.add_argument("--json", action="store_true")
    _llm_options(sp)
    sp = cmd("report", cmd_report, "what the cleaner removed from each document, and why")
    sp.add_argument("doc", nargs="?", help="document id (default: all, summarised)")
    sp.add_argument("--json", action="store_true")

    sp = cmd("eval", cmd_eval, "score retrieval on question sets (hit@k, mrr@10, ...)")
    sp.add_argument("files", nargs="+", help="question sets (JSON lines with id, q, gold, history)")
    sp.add_argument("--k", type=K, default=10, help="cut-off for hit@k (1-1000, default 10)")
    sp.add_argument("--junk", help="noise marker list (default: dev_junk_markers.txt beside the set)")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--answers", action="store_true",
                    help="also generate each answer with the model and report how many sentences passed the check")
    _llm_options(sp)

    sp = cmd("serve", cmd_serve, "serve the web UI")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=PORT, default=7860)
    sp.add_argument("--auth", help="USER:PASS to require a login; visible to anyone who can run `ps`, so "
                                   "for local use: prefer --auth-file or $QUNZHONG_AUTH")
    sp.add_argument("--auth-file", help="file of USER:PASS lines (or $QUNZHONG_AUTH_FILE)")
    _llm_options(sp)

    sp = cmd("feedback", cmd_feedback, "export the 👍/👎 feedback trainees left")
    sp.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "fn", None):
        parser.print_help()
        return 2
    from index.embedders import load_progress

    try:
        with load_progress(sys.stderr.isatty()):  # a model's loading bar only on a terminal (ingest: unless -q)
            return args.fn(args)
    except QunzhongError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):  # a script reading --json output reads the failure too
            report = getattr(exc, "report", None)
            _out({"error": str(exc), **({"report": report.to_dict()} if report is not None else {})})
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # python -m assistant.cli, as python -m assistant
    raise SystemExit(main())
