"""Answers written by a language model behind an OpenAI-compatible API, grounded in the
retrieved passages and checked sentence by sentence (assistant.check) before anyone sees them
as sourced.

The extractive answer (assistant.answer) is always computed first: it decides whether anything
is relevant (when it is not, the model is never called), it supplies the numbered passages, and
it is what the trainee gets, with a one-line notice, whenever generation fails in any way.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from assistant.answer import Answer, Citation, answer
from assistant.check import SentenceCheck, check_answer
from assistant.query import clean_history
from index.crosslingual import is_english
from index.errors import ConfigError, GenerationError

log = logging.getLogger(__name__)

API_KEY_ENV = "QUNZHONG_LLM_API_KEY"

SYSTEM_ZH = ("你是群众工作与信访工作的培训助手。只能依据用户给出的编号资料回答,不得使用资料以外的知识,"
             "不得编造数字、人名、地名或文件名。每句话结尾用方括号标出它所依据的资料编号,例如 [1] 或 [1][2]。"
             "资料中没有答案时,只回答:资料中没有相关内容。")
LANG_ZH = "请用中文回答,简明扼要,不超过五句话,每句话结尾标注编号。"
LANG_EN = ("The question is in English: answer in English, quote the Chinese wording of the passages in "
           "quotation marks where it helps, in at most five sentences, each ending with its [n].")


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is and how long to wait for it."""

    url: str
    model: str
    api_key: str = ""
    timeout: float = 30.0             # the whole answer
    first_token_timeout: float = 10.0  # the first token (never more than `timeout`)
    max_tokens: int = 512
    temperature: float = 0.1

    @classmethod
    def from_options(cls, url: str | None, model: str | None, timeout: float | None = None,
                     max_tokens: int | None = None) -> "LLMConfig | None":
        """None when no model is configured; the key comes from $QUNZHONG_LLM_API_KEY."""
        if not url:
            if model:
                raise ConfigError("--llm-model needs --llm-url")
            return None
        if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
            raise ConfigError("--llm-timeout must be a positive number of seconds")
        if max_tokens is not None and max_tokens <= 0:
            raise ConfigError("--llm-max-tokens must be positive")
        timeout = cls.timeout if timeout is None else float(timeout)
        return cls(url=url.rstrip("/"), model=model or "", api_key=os.environ.get(API_KEY_ENV, ""),
                   timeout=timeout, first_token_timeout=min(cls.first_token_timeout, timeout),
                   max_tokens=max_tokens or cls.max_tokens)

    def client(self):
        import httpx
        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=self.api_key or "not-needed", max_retries=0,
                      timeout=httpx.Timeout(self.timeout, connect=min(5.0, self.timeout)))

    def with_timeout(self, seconds: float) -> "LLMConfig":
        t = min(self.timeout, seconds)
        return dataclasses.replace(self, timeout=t, first_token_timeout=min(self.first_token_timeout, t))

    def public(self) -> dict:
        return {"url": self.url, "model": self.model, "key": bool(self.api_key), "timeout": self.timeout}

    def named(self) -> "LLMConfig":
        """This configuration with its model named. Given without --llm-model, the endpoint's own
        model is used, asked once per process: llama.cpp and vLLM serve one, Ollama several, and
        an endpoint serving several (or none) is an error naming them. An endpoint that has no
        model list is sent "default", as before."""
        if self.model:
            return self
        key = (self.url, self.api_key)
        if key not in _SERVED:
            try:
                ids = [m.id for m in self.with_timeout(5.0).client().models.list().data]
            except Exception as exc:
                err = _describe(exc)
                if err.kind != "http":
                    raise err from exc
                ids = ["default"]  # no /models here: the endpoint picks
            if len(ids) != 1:
                served = ", ".join(ids[:10]) or "none"
                raise GenerationError(f"{self.url} serves {len(ids)} models ({served}): name one with --llm-model",
                                      kind="model", detail=f"服务提供 {len(ids)} 个模型,请用 --llm-model 指定")
            _SERVED[key] = ids[0]
        return dataclasses.replace(self, model=_SERVED[key])


_SERVED: dict[tuple[str, str], str] = {}  # (url, key) -> the one model that endpoint serves


def probe(config: LLMConfig | None) -> dict:
    """For `qunzhong status`: is a model configured, and does its endpoint answer?"""
    if config is None:
        return {"configured": False}
    info = {"configured": True, **config.public()}
    try:
        models = config.with_timeout(5.0).client().models.list()
        info.update(reachable=True, models=[m.id for m in models.data][:20])
        if not config.model:  # the one it would use, as `named` picks it ("" when it serves several)
            info["model"] = info["models"][0] if len(models.data) == 1 else ""
        elif models.data and config.model not in {m.id for m in models.data}:
            # some servers (llama.cpp) answer under any name; others refuse one they do not list
            info["unlisted"] = True
    except Exception as exc:  # any failure is the answer to "reachable?"
        info.update(reachable=False, error=str(_describe(exc)))
    return info


def build_messages(question: str, history: Sequence[str], citations: Sequence[Citation]) -> list[dict]:
    """System instructions; the passages numbered [1]..[k]; the earlier questions; the question."""
    blocks = []
    for c in citations:
        p = c.hit.passage
        where = f"《{p.title}》" + (f" {p.section}" if p.section else "")
        blocks.append(f"[{c.n}] {where}\n{p.text}")
    parts = ["资料:\n" + "\n\n".join(blocks)]
    if history:
        parts.append("此前的提问:\n" + "\n".join(f"- {h}" for h in history))
    parts.append(f"问题:{question}")
    lang = LANG_EN if is_english(question) else LANG_ZH
    return [{"role": "system", "content": f"{SYSTEM_ZH}\n{lang}"},
            {"role": "user", "content": "\n\n".join(parts)}]


_NOTICES = {
    "unreachable": "无法连接语言模型服务", "timeout": "语言模型响应超时", "http": "语言模型服务返回错误",
    "refused": "语言模型拒绝回答", "empty": "语言模型没有返回内容", "malformed": "语言模型返回的内容无法解析",
    "lost": "与语言模型的连接中断", "unsupported": "生成的回答没有一句能在引用的段落中核实",
    "check": "未能核对生成的回答", "model": "未能确定使用哪个语言模型",
}


_NOTICES_EN = {
    "unreachable": "the language model cannot be reached", "timeout": "the language model did not answer in time",
    "http": "the language model service returned an error", "refused": "the language model refused to answer",
    "empty": "the language model returned nothing", "malformed": "the language model's reply could not be read",
    "lost": "the connection to the language model was lost",
    "unsupported": "no generated sentence could be checked against the passages it cites",
    "check": "the generated answer could not be checked", "model": "which language model to use is unclear",
}


def notice(kind: str, detail: str = "", english: bool = False) -> str:
    """The one line shown above the extractive answer when generation did not work (and, for an
    English question, the same in English on the next line)."""
    reason = _NOTICES.get(kind, "语言模型未能作答") + (f"({detail})" if detail else "")
    line = f"⚠️ {reason},以下为资料原文摘录。"
    if english:
        line += f"\n({_NOTICES_EN.get(kind, 'the language model did not answer').capitalize()}: the passages below are quoted as they are.)"
    return line


def _describe(exc: BaseException) -> GenerationError:
    """Any failure of the client, as one GenerationError with a kind."""
    import httpx
    import openai

    if isinstance(exc, GenerationError):
        return exc
    if isinstance(exc, openai.APITimeoutError) or isinstance(exc, httpx.TimeoutException):
        return GenerationError("the model did not answer in time", kind="timeout")
    if isinstance(exc, openai.APIStatusError):
        return GenerationError(f"HTTP {exc.status_code}", kind="http", detail=f"HTTP {exc.status_code}")
    if isinstance(exc, openai.APIConnectionError):
        return GenerationError(f"cannot reach the model: {exc}", kind="unreachable")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.NetworkError)):
        return GenerationError(f"connection lost: {exc}", kind="lost")
    return GenerationError(f"malformed reply: {type(exc).__name__}: {exc}", kind="malformed")


def _content(chunk) -> tuple[str, str | None]:
    """(text, finish_reason) of one streamed chunk; refusals and odd shapes raise."""
    choices = getattr(chunk, "choices", None)
    if not isinstance(choices, list):
        raise GenerationError("a streamed chunk has no choices", kind="malformed")
    if not choices:
        return "", None  # e.g. a usage-only chunk
    choice = choices[0]
    delta = getattr(choice, "delta", None)
    if getattr(delta, "refusal", None) or getattr(choice, "finish_reason", None) == "content_filter":
        raise GenerationError("the model refused", kind="refused")
    text = getattr(delta, "content", None) or ""
    if not isinstance(text, str):
        raise GenerationError("streamed content is not text", kind="malformed")
    return text, getattr(choice, "finish_reason", None)


def stream_text(config: LLMConfig, messages: list[dict]) -> Iterator[str]:
    """The model's text as it arrives. Raises GenerationError on any failure, including no first
    token within `first_token_timeout` and no finished answer within `timeout`.

    The HTTP stream is read in a worker thread so both deadlines hold whatever the server does
    (a silent socket, a trickle of keep-alives); the worker stops at the next chunk once abandoned."""
    inbox: queue.Queue = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=_read_stream, args=(config, messages, inbox, stop), daemon=True,
                              name="llm-stream")
    worker.start()
    start = time.monotonic()
    first = True
    try:
        while True:
            limit = config.first_token_timeout if first else config.timeout
            wait = start + limit - time.monotonic()
            try:
                kind, item = inbox.get(timeout=max(wait, 0.0))
            except queue.Empty:
                raise GenerationError(f"no {'first token' if first else 'complete answer'} within "
                                      f"{limit:g} s", kind="timeout") from None
            if kind == "error":
                raise _describe(item)
            if kind == "end":
                if item is None:
                    raise GenerationError("the stream ended before the answer was finished", kind="lost")
                return
            if item:
                first = False
                yield item
    finally:
        stop.set()


def _read_stream(config: LLMConfig, messages: list[dict], inbox: queue.Queue, stop: threading.Event) -> None:
    finish = None
    try:
        stream = config.client().chat.completions.create(
            model=config.model, messages=messages, stream=True, max_tokens=config.max_tokens,
            temperature=config.temperature)
        with stream:
            for chunk in stream:
                text, reason = _content(chunk)
                finish = reason or finish
                inbox.put(("text", text))
                if stop.is_set():
                    return
        inbox.put(("end", finish))
    except BaseException as exc:  # handed to the reader, which turns it into a GenerationError
        inbox.put(("error", exc))


@dataclass(frozen=True)
class Partial:
    """Text generated so far (not yet checked)."""

    text: str


@dataclass(frozen=True)
class Reply:
    """What the trainee is shown: a checked generated answer, or the extractive one."""

    base: Answer
    generated: bool = False
    model: str = ""
    sentences: tuple[SentenceCheck, ...] = ()
    notice: str = ""
    failure: str = ""          # the GenerationError kind when it fell back
    raw: str = field(default="", repr=False)

    @property
    def kept(self) -> tuple[SentenceCheck, ...]:
        return tuple(s for s in self.sentences if s.ok)

    @property
    def struck(self) -> tuple[SentenceCheck, ...]:
        return tuple(s for s in self.sentences if not s.ok)

    @property
    def text(self) -> str:
        if self.generated:
            return "\n\n".join([*self.base.notes, "\n".join(s.marked for s in self.kept)])
        return f"{self.notice}\n\n{self.base.text}" if self.notice else self.base.text

    def supports(self, n: int) -> list[str]:
        """The kept sentences that passage [n] supports (for its card)."""
        return [s.claim for s in self.kept if n in s.supported_by]

    def to_dict(self) -> dict:
        return {**self.base.to_dict(), "answer": self.text, "generated": self.generated, "model": self.model,
                "notice": self.notice, "failure": self.failure,
                "sentences": [s.to_dict() for s in self.sentences]}


def stream_reply(retriever, config: LLMConfig | None, query: str,
                 history: Sequence[str] = ()) -> Iterator[Partial | Reply]:
    """Partial texts while the model writes, then one Reply (always, whatever failed)."""
    base = answer(retriever, query, history)
    if config is None or not base.found:
        yield Reply(base)
        return
    messages = build_messages(base.query, clean_history(history), base.citations)
    text, checks, asked = "", (), config
    try:
        config = config.named()
        for delta in stream_text(config, messages):
            text += delta
            yield Partial(text)
        if not text.strip():
            raise GenerationError("the model returned no text", kind="empty")
        checks = _checked(retriever, text, base.citations, messages[0]["content"])
        if not any(s.ok for s in checks):
            raise GenerationError("no generated sentence is supported by its citation", kind="unsupported")
    except GenerationError as exc:
        if exc.kind == "http" and not asked.model:  # the endpoint's model may have changed: ask again next time
            _SERVED.pop((asked.url, asked.api_key), None)
        kind = "lost" if exc.kind == "unreachable" and text else exc.kind  # it had answered: the link broke
        log.warning("generation fell back to the extractive answer (%s): %s", kind, exc)
        yield Reply(base, model=config.model, sentences=checks, notice=notice(kind, exc.detail, is_english(base.query)),
                    failure=kind, raw=text)
        return
    yield Reply(base, generated=True, model=config.model, sentences=checks, raw=text)


def _checked(retriever, text: str, citations, instructions: str) -> tuple[SentenceCheck, ...]:
    try:
        return tuple(check_answer(retriever, text, citations, instructions))
    except Exception as exc:  # a fault in the check must not cost the trainee an answer
        log.exception("the citation check failed")
        raise GenerationError(f"the citation check failed: {exc}", kind="check") from exc


def reply(retriever, config: LLMConfig | None, query: str, history: Sequence[str] = ()) -> Reply:
    """The final Reply of `stream_reply` (for the CLI and evaluation)."""
    last = None
    for last in stream_reply(retriever, config, query, history):
        pass
    return last


def answer_check_report(retriever, config: LLMConfig, questions) -> dict:
    """For `eval --answers`: how the generated answers of one question set fared in the check."""
    counts = {"questions": 0, "not_found": 0, "generated": 0, "fell_back": 0, "sentences": 0, "passed": 0}
    failures: dict[str, int] = {}
    for q in questions:
        r = reply(retriever, config, q.q, q.history)
        counts["questions"] += 1
        if not r.base.found:
            counts["not_found"] += 1
            continue
        counts["generated" if r.generated else "fell_back"] += 1
        if r.failure:
            failures[r.failure] = failures.get(r.failure, 0) + 1
        counts["sentences"] += len(r.sentences)
        counts["passed"] += len(r.kept)
    share = counts["passed"] / counts["sentences"] if counts["sentences"] else 0.0
    return {**counts, "passed_share": round(share, 4), "failures": failures,
            "model": config.model or (r.model if counts["questions"] else "")}


def format_check_table(names: Sequence[str], rows: Sequence[dict]) -> str:
    cols = ["questions", "generated", "fell_back", "sentences", "passed", "passed_share"]
    lines = ["generated answers".ljust(22) + "".join(c.rjust(13) for c in cols)]
    for name, row in zip(names, rows):
        lines.append(name[:22].ljust(22) + "".join(str(row[c]).rjust(13) for c in cols))
        if row["failures"]:
            lines.append("  fell back: " + ", ".join(f"{k} {v}" for k, v in sorted(row["failures"].items())))
    return "\n".join(lines)
