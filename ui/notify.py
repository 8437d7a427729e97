"""Toasts with Chinese titles.

gr.Warning/gr.Info take `title=`, but the installed Gradio's toast (6.x) shows the message type
instead ("Warning", "Info", with a count when several are grouped). So the titles are passed, for a
Gradio that shows them, and `TOAST_CSS` (in the page head) puts them in place of the type name.
"""
from __future__ import annotations

import gradio as gr

WARNING_TITLE = "注意"
INFO_TITLE = "提示"
TITLES = {"warning": WARNING_TITLE, "info": INFO_TITLE, "error": "出错", "success": "完成"}

TOAST_CSS = ("<style>.toast-title{font-size:0!important}"
             ".toast-title::before,.toast-title .toast-count{font-size:var(--text-lg)}"
             + "".join(f'.toast-title.{kind}::before{{content:"{title}"}}' for kind, title in TITLES.items())
             + "</style>")


def warn(message: str) -> None:
    gr.Warning(message, title=WARNING_TITLE)


def info(message: str) -> None:
    gr.Info(message, title=INFO_TITLE)
