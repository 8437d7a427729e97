"""Endpoints for scripts and gradio_client: no browser state needed."""
from __future__ import annotations

import gradio as gr

from assistant import paths
from assistant.feedback import record_feedback
from assistant.service import Assistant
from index.errors import QunzhongError


def add_api(assistant: Assistant) -> None:
    def chat(question: str, history: list[str] | None = None) -> dict:
        """Ask a question; `history` lists the earlier user turns. Returns the answer and citations."""
        try:
            r = assistant.retriever()
            return {**assistant.ask(question, history=history or [], retriever=r).to_dict(),
                    "index_version": r.data.version}
        except QunzhongError as exc:
            return {"error": str(exc)}

    def feedback(question: str, answer: str, rating: str, passage_ids: list[int] | None = None,
                 history: list[str] | None = None, comment: str = "") -> dict:
        """Record 👍 ("up") or 👎 ("down") on an answer, with the ids of the passages it showed."""
        try:
            ids = [int(i) for i in passage_ids or []]
            return record_feedback(paths.feedback_path(), rating=rating, question=question, history=history or [],
                                   answer=answer, passage_ids=ids, comment=comment or "",
                                   index_version=_version(assistant))
        except (TypeError, ValueError):
            return {"error": "passage_ids must be integers"}
        except QunzhongError as exc:
            return {"error": str(exc)}

    gr.api(chat, api_name="chat")
    gr.api(feedback, api_name="feedback")


def _version(assistant: Assistant) -> str:
    try:
        return assistant.retriever().data.version
    except QunzhongError:
        return ""
