"""The Gradio web UI (Chinese): chat with cited answers, source viewer, library, feedback.

Pages are built in `ui.chat`, `ui.viewer` and `ui.library`; this module joins them:
the hidden "opener" box that clickable cards and buttons write to, the per-session
list of documents, the refresh when the index changes, and `serve`.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr

from assistant import paths
from assistant.feedback import check_writable
from assistant.service import Assistant, redact_paths
from index.errors import QunzhongError
from ui import render
from ui.api import add_api
from ui.chat import chat_page, wire_chat
from ui.library import library_page, library_view, report_for
from ui.limits import Guard
from ui.notify import TOAST_CSS, warn
from ui.viewer import SCROLL_JS, doc_focus, parse_target, passage_focus, render_focus, viewer_page, wire_viewer

log = logging.getLogger(__name__)
# Gradio keeps, per session, a copy of every component's config (~80 KB): with its default of 10,000
# sessions, and a new session for every REST call, `serve` grew 82 KB per request (a soak of 1,500
# questions: 208 -> 308 MB). 200 sessions bound it (benchmarks/servers.py soak); the least recently
# used is dropped first, so only a browser tab idle through 200 newer sessions loses its chat.
SESSIONS = 200
ANALYTICS_EVENTS = "1000"  # Gradio's per-event timing records (default 10,000)
SHOW_LATEST_JS = "() => { if (window.qzShowLatest) window.qzShowLatest(); }"

HERE = Path(__file__).parent
CSS = (HERE / "style.css").read_text(encoding="utf-8")
HEAD = (f'<style>{(HERE / "page.css").read_text(encoding="utf-8")}</style>'
        f'<script>{(HERE / "client.js").read_text(encoding="utf-8")}</script>{TOAST_CSS}')
HEADER = ('<div class="qz-banner"><h1>群众工作助手</h1><p>面向群众工作与信访工作培训:回答均摘自资料原文,'
          "每一点都标注出处,点开引用即可核对原文。</p></div>")


def build_app(assistant: Assistant, llm=None) -> gr.Blocks:
    with gr.Blocks(title="群众工作助手") as app:
        gr.HTML(HEADER, js_on_load=None)
        shown = gr.State({})
        opener = gr.Textbox(visible="hidden", elem_id="qz-open", show_label=False)
        with gr.Tabs(elem_id="qz-tabs") as tabs:
            with gr.Tab("问答", id="chat"):
                chat = chat_page()
            with gr.Tab("原文核对", id="viewer"):
                viewer = viewer_page()
            with gr.Tab("资料库", id="library") as library_tab:
                library = library_page()
        asked = wire_chat(assistant, chat, llm)
        wire_viewer(assistant, viewer, shown, tabs)
        _wire_opener(assistant, opener, shown, chat["cited"], viewer, library, tabs)
        _wire_refresh(assistant, app, asked, shown, chat, viewer, library, library_tab)
        add_api(assistant)
    return app


def _wire_opener(assistant: Assistant, opener, shown, cited, viewer: dict, library: dict, tabs) -> None:
    """One handler for every clickable element that opens a passage, a document or a report.

    A passage id is resolved in the index version it was shown from: the session's citation
    cards (`cited`) for a card, the viewer's focus for a button in the viewer."""
    keep = gr.update()

    def open_target(raw, mode, shown, cited, focus):
        target = parse_target(raw)
        if target is None:
            return keep, keep, keep, keep, keep, keep
        try:
            if target.kind == "r":
                return keep, keep, keep, keep, keep, report_for(assistant, shown, target.num)
            if target.kind == "d":
                focus = doc_focus(assistant, shown, target.num)
            else:
                version = cited if target.kind == "p" else (focus or {}).get("version")
                focus = passage_focus(assistant, target.num, target.sub, version)
            if not focus:
                return keep, keep, keep, keep, keep, keep
            info, body = render_focus(assistant, focus, mode)
        except QunzhongError as exc:
            warn(redact_paths(str(exc)))
            return keep, keep, keep, keep, keep, keep
        docs = (shown or {}).get("docs", [])
        pick = docs.index(focus["doc"]) if focus["doc"] in docs else None
        return gr.update(value=pick), info, body, focus, gr.Tabs(selected="viewer"), keep

    outputs = [viewer["doc"], viewer["info"], viewer["body"], viewer["focus"], tabs, library["report"]]
    opener.change(open_target, [opener, viewer["mode"], shown, cited, viewer["focus"]], outputs, api_visibility="private",
                 show_progress="hidden").then(None, opener, js=SCROLL_JS)


def _wire_refresh(assistant: Assistant, app: gr.Blocks, asked, shown, chat: dict, viewer: dict,
                  library: dict, library_tab) -> None:
    """Status, document list and library follow the index: on page load, after each answer, when
    the library tab is opened (an admin may have re-indexed since: it listed removed documents
    until 刷新), on 刷新."""

    def refresh(shown, force: bool = False):
        try:
            r = assistant.retriever()
            status = render.status_line(assistant.status(r))
        except QunzhongError as exc:
            return (f'<div class="qz-status">⚠️ {render.esc(redact_paths(str(exc)))}</div>', gr.update(), gr.update(),
                    shown)
        if not force and shown and shown.get("version") == r.data.version:
            return status, gr.update(), gr.update(), shown
        new, table, choices = library_view(r)
        return status, gr.update(choices=choices, value=None), table, new

    outputs = [chat["status"], viewer["doc"], library["table"], shown]
    app.load(refresh, shown, outputs, api_visibility="private")
    library["refresh"].click(lambda s: refresh(s, force=True), shown, outputs, api_visibility="private")
    library_tab.select(refresh, shown, outputs, api_visibility="private", show_progress="hidden")
    for event in asked:
        event.then(refresh, shown, outputs, api_visibility="private", show_progress="hidden")
        event.then(None, js=SHOW_LATEST_JS)


def _credentials(auth: str | None, auth_file: str | None) -> list[tuple[str, str]] | None:
    """USER:PASS pairs from --auth (visible in `ps`: for local use), else from --auth-file or
    $QUNZHONG_AUTH_FILE (one pair a line), else from $QUNZHONG_AUTH."""
    auth_file = auth_file or os.environ.get("QUNZHONG_AUTH_FILE")
    if auth:
        lines, where = [auth], "--auth"
    elif auth_file:
        try:
            lines = Path(auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise QunzhongError(f"cannot read the auth file {auth_file}: {exc.strerror or exc}") from None
        lines, where = [line.strip() for line in lines if line.strip() and not line.startswith("#")], auth_file
    elif os.environ.get("QUNZHONG_AUTH"):
        lines, where = [os.environ["QUNZHONG_AUTH"]], "$QUNZHONG_AUTH"
    else:
        return None
    pairs = [line.partition(":") for line in lines]
    if not pairs or any(not sep or not user or not password for user, sep, password in pairs):
        raise QunzhongError(f"{where} must hold USER:PASS (--auth, --auth-file or $QUNZHONG_AUTH)")
    return [(user, password) for user, _, password in pairs]


def _forget_finished_sessions(app: gr.Blocks) -> None:
    """Drop the empty event-id sets Gradio's queue keeps forever, one per session that ever called
    (its message queues are already an LRU of 2,000): those sessions have nothing pending."""
    queue = getattr(app, "_queue", None)
    pending, live = getattr(queue, "pending_event_ids_session", None), getattr(queue, "pending_messages_per_session", {})
    if isinstance(pending, dict):
        for session in [s for s, ids in pending.items() if not ids and s not in live]:
            pending.pop(session, None)


def serve(index_dir, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          prevent_thread_lock: bool = False, auth_file: str | None = None, llm=None,
          settings: dict | None = None):
    """Build the app on the index at `index_dir` and launch it (127.0.0.1 unless told otherwise);
    `settings`: overrides of query-time settings (`index.settings.Settings`)."""
    from starlette.middleware import Middleware

    from assistant.cli import check_port

    credentials = _credentials(auth, auth_file)
    check_port(host, port)  # a busy port is one line, before the model loads
    check_writable(paths.feedback_path())  # so is a feedback log no vote could be stored in
    assistant = Assistant(index_dir, settings)
    assistant.warm_up()  # model, index and word segmenter loaded before the first visitor; fails loudly here
    if llm is not None:
        from assistant.check import warm_up

        warm_up()  # the citation check's tagger, too
    app = build_app(assistant, llm)
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", ANALYTICS_EVENTS)  # read when the queue is made
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=host, server_port=port, auth=credentials, css=CSS, head=HEAD, show_error=False,
               prevent_thread_lock=prevent_thread_lock, footer_links=["api"], theme=gr.themes.Soft(),
               auth_message="群众工作助手:请输入账号和密码。" if credentials else None,
               app_kwargs={"middleware": [Middleware(Guard, housekeeping=lambda: _forget_finished_sessions(app))]}, state_session_capacity=SESSIONS)
    return app
