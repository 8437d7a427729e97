"""Endpoints for scripts and gradio_client: no browser state needed.

Answers name their index version and an answer id; /feedback checks every field (and the
passage ids against that version) before it writes, stores a repeated vote once (a changed vote
is a new row that replaces the earlier one in `qunzhong feedback`, a withdrawn one a row that
takes it back), and takes
at most FEEDBACK_RATE votes per client per minute. Paths on the server never appear: sources
are relative to the indexed folder, error messages shortened.
"""
from __future__ import annotations

import gradio as gr

from assistant import paths
from assistant.feedback import WITHDRAWN, new_answer_id, record_feedback, withdraw_feedback
from assistant.service import Assistant, public_answer, redact_paths
from index.errors import QunzhongError
from ui.limits import RateLimiter, client_key

FEEDBACK_RATE = (30, 60.0)


def answered(assistant: Assistant, question: str, history: list[str]) -> dict:
    r = assistant.retriever()
    ans = assistant.ask(question, history=history, retriever=r)
    out = public_answer(r, ans)
    out["answer_id"] = new_answer_id()  # this answer to this caller: votes of other callers stay apart
    return out


def add_api(assistant: Assistant) -> None:
    limiter = RateLimiter(*FEEDBACK_RATE)

    def chat(question: str, history: list[str] | None = None) -> dict:
        """Ask a question; `history` lists the earlier user turns. Returns the answer and citations,
        the index version they come from and an answer id (for /feedback)."""
        try:
            if not isinstance(question, str) or not isinstance(history or [], list):
                raise QunzhongError("question must be a string and history a list of strings")
            return answered(assistant, question, history or [])
        except QunzhongError as exc:
            return {"error": redact_paths(str(exc))}

    def feedback(question: str, answer: str, rating: str, passage_ids: list[int] | None = None,
                 history: list[str] | None = None, comment: str = "", index_version: str = "",
                 answer_id: str = "", request: gr.Request = None) -> dict:
        """Record 👍 ("up") or 👎 ("down") on an answer, with the ids of the passages it showed and
        (from /chat) its index_version and answer_id. A repeated vote is stored once; a different
        vote on the same answer_id replaces the earlier one in the export; "withdrawn" (with that
        answer_id) takes the standing vote back, as clicking the same button again does."""
        if request is not None and not limiter.allow(client_key(request)):
            return {"error": "too many votes from this client; try again in a minute"}
        try:
            r = assistant.retriever()
            version = index_version or r.data.version
            if version != r.data.version:
                raise QunzhongError("资料库已更新,请重新提问后再评价 (index_version is not the version served)")
            fields = dict(question=question, history=history, answer=answer, passage_ids=passage_ids,
                          index_version=version, n_passages=len(r.passages), answer_key=answer_id)
            if rating == WITHDRAWN:
                if not answer_id:
                    raise QunzhongError("withdrawing a vote needs the answer_id it was cast on")
                return withdraw_feedback(paths.feedback_path(), **fields)
            return record_feedback(paths.feedback_path(), rating=rating, comment=comment, **fields)
        except QunzhongError as exc:
            return {"error": redact_paths(str(exc))}
        except OSError as exc:
            return {"error": f"feedback not saved ({exc.strerror or type(exc).__name__})"}

    gr.api(chat, api_name="chat")
    gr.api(feedback, api_name="feedback")
