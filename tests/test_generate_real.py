"""Generated answers from a real llama.cpp server (xllamacpp) running Gemma 3 270M: real
streaming through the openai client, a real timeout, a real unreachable port, and a server
killed in the middle of an answer. The small model writes poor Chinese, which is what the
citation check is for: every sentence it keeps carries a [n] whose passage supports it."""
from __future__ import annotations

import dataclasses
import json
import time
import urllib.request

import pytest
from llm_servers import free_port, main_outcome

pytestmark = pytest.mark.slow

QUESTION = "遇到情绪激动的上访群众应该怎么接待?"


@pytest.fixture(scope="module")
def retriever(llm_index):
    from assistant.service import Assistant

    return Assistant(llm_index).retriever()


def config(url: str, max_tokens: int = 16, **kw):
    from assistant.generate import LLMConfig

    return dataclasses.replace(LLMConfig.from_options(url, "gemma", 60.0, max_tokens),
                               first_token_timeout=60.0, temperature=0.0, **kw)


def test_real_model_streams_and_every_kept_sentence_is_supported(llama, retriever):
    from assistant.check import check_answer
    from assistant.generate import Partial, Reply, stream_reply
    from ui.chat import reply_markdown

    stamps, final = [], None
    for event in stream_reply(retriever, config(llama.url), QUESTION):
        if isinstance(event, Partial):
            stamps.append((time.monotonic(), event.text))
        else:
            final = event
    assert isinstance(final, Reply) and len(stamps) >= 3
    assert stamps[-1][0] - stamps[0][0] > 0.05  # tokens arrived over time, not in one piece
    assert final.raw == stamps[-1][1]
    if not final.generated:  # every sentence failed the check: the extractive answer, with a notice
        assert final.failure == "unsupported" and final.notice and final.base.text in final.text
        return
    from assistant.generate import build_messages

    told = build_messages(final.base.query, [], final.base.citations)[0]["content"]
    checks = check_answer(retriever, final.raw, final.base.citations, told)
    assert [c.ok for c in checks] == [s.ok for s in final.sentences]
    bubble = reply_markdown(final)
    for s in final.sentences:
        if s.ok:
            assert set(s.supported_by) <= set(s.cited) and s.claim in final.text
            assert f"\\[{s.supported_by[0]}\\]" in bubble
        else:
            assert s.claim not in final.text and s.reason


def test_real_timeout_and_unreachable_port_fall_back(llama, llm_index, retriever, tmp_path):
    from assistant.generate import probe, reply

    code, out, _ = main_outcome(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--llm-max-tokens", "8",
                            "--json", "--llm-url", llama.url, "--llm-timeout", "0.05")
    data = json.loads(out)
    assert code == 0 and data["failure"] == "timeout" and "超时" in data["answer"]
    assert data["citations"] and data["points"]  # the extractive answer is all there
    with urllib.request.urlopen(f"{llama.url}/models", timeout=10) as r:
        served = [m["id"] for m in json.load(r)["data"]]
    assert data["model"] == served[0] and len(served) == 1  # no --llm-model: the one llama.cpp serves
    dead = f"http://127.0.0.1:{free_port()}/v1"
    code, out, _ = main_outcome(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--json", "--llm-url", dead)
    assert code == 0 and json.loads(out)["failure"] == "unreachable"  # asked again at the answer; falls back
    r = reply(retriever, config(dead), QUESTION)
    assert r.failure == "unreachable" and "无法连接" in r.notice and r.text.endswith(r.base.text)
    english = reply(retriever, config(dead), "How should I receive a petitioner who is very agitated?")
    assert "无法连接" in english.notice and "(The language model cannot be reached:" in english.notice, english.notice
    assert probe(config(dead))["reachable"] is False
    assert probe(config(llama.url))["reachable"] is True
    from assistant.generate import LLMConfig
    from index.errors import ConfigError

    assert "unlisted" not in probe(LLMConfig.from_options(llama.url, served[0]))
    other = probe(LLMConfig.from_options(llama.url, "no-such-model"))  # llama.cpp answers, others may refuse
    assert other["reachable"] and other["unlisted"], other
    for bad in (float("nan"), float("inf"), 0.0):
        with pytest.raises(ConfigError, match="--llm-timeout"):
            LLMConfig.from_options(llama.url, None, bad)


def test_killed_server_mid_answer_falls_back(llama, retriever):
    """Last in this module: it kills the session's server (which restarts if a later test asks)."""
    from assistant.generate import Partial, Reply, stream_reply

    final, partials = None, 0
    for event in stream_reply(retriever, config(llama.url, max_tokens=200), QUESTION):
        if isinstance(event, Partial):
            partials += 1
            if partials == 2:
                llama.kill()
        else:
            final = event
    assert isinstance(final, Reply) and partials >= 2
    assert not final.generated and final.failure == "lost"  # it had begun: the link broke, not "cannot connect"
    assert "连接" in final.notice and final.text.endswith(final.base.text)


def test_the_model_reads_the_whole_prompt(llama, retriever):
    """The messages the answer is built from reach the model: llama.cpp counts the prompt's tokens
    (with Jinja on, the server's "gemma" template setting had made every prompt 3 tokens)."""

    from assistant.answer import answer
    from assistant.generate import build_messages

    base = answer(retriever, QUESTION)
    messages = build_messages(base.query, [], base.citations)
    body = json.dumps({"model": "gemma", "messages": messages, "max_tokens": 1, "temperature": 0}).encode()
    request = urllib.request.Request(f"{llama.url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        usage = json.load(r)["usage"]
    passages = sum(len(c.hit.passage.text) for c in base.citations)
    assert usage["prompt_tokens"] > passages / 4, usage  # a Chinese character is about a token or less
