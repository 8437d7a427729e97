"""Generated answers against a replaying OpenAI-compatible server (real HTTP, the real openai
client, the real embedder and index): each failure kind falls back to the extractive answer
with a one-line notice, fabricated numbers and names are struck, the model is not called when
retrieval finds nothing, and with no model configured nothing changes."""
from __future__ import annotations

import dataclasses
import json

import pytest
from llm_servers import ReplayServer, free_port, main_outcome

from conftest import run_main

QUESTION = "遇到情绪激动的上访群众应该怎么接待?"
OFF_TOPIC = "明天的天气怎么样,适合去海边游泳吗?"


@pytest.fixture(scope="module")
def replay():
    server = ReplayServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def retriever(llm_index):
    from assistant.service import Assistant

    return Assistant(llm_index).retriever()


def config(url: str, **kw):
    from assistant.generate import LLMConfig

    return dataclasses.replace(LLMConfig.from_options(url, "replay", 5.0, 64), **kw)


def first_sentence(retriever, n: int = 1) -> str:
    from assistant.answer import answer
    from ingest.splitting import unit_sentences

    p = answer(retriever, QUESTION).citations[n - 1].hit.passage
    return unit_sentences(p.text, p.section)[0].rstrip("。")


def test_replayed_answer_streams_and_supported_sentences_keep_their_marker(replay, retriever):
    from assistant.generate import Partial, Reply, stream_reply

    s1, s2 = first_sentence(retriever, 1), first_sentence(retriever, 2)
    replay.play(text=f"{s1}[1]。{s2}。[2]")
    events = list(stream_reply(retriever, config(replay.url), QUESTION))
    partials = [e.text for e in events if isinstance(e, Partial)]
    final = events[-1]
    assert len(partials) >= 5 and all(b.startswith(a) for a, b in zip(partials, partials[1:]))
    assert isinstance(final, Reply) and final.generated and not final.notice
    assert [s.supported_by for s in final.sentences] == [(1,), (2,)]
    assert s1 in final.text and "[1]" in final.text and s1 in final.supports(1)[0]
    sent = replay.requests[0]
    assert sent["stream"] is True and sent["max_tokens"] == 64
    user = sent["messages"][-1]["content"]
    assert "[1]" in user and "[2]" in user and QUESTION in user  # the passages, numbered, and the question


def test_fabricated_number_and_name_are_struck(replay, retriever):
    from assistant.generate import reply
    from ui.chat import reply_cards, reply_markdown

    s1 = first_sentence(retriever)
    number = f"{s1},并且必须在每月17日前上门回访[1]。"
    name = "王建国同志在青松县信访局总结了这一做法[1]。"
    uncited = "这是接待工作最重要的原则。"
    missing = "接待时要认真倾听群众的诉求[7]。"
    replay.play(text=s1 + "[1]。" + number + name + uncited + missing)
    r = reply(retriever, config(replay.url), QUESTION)
    sources = "".join(c.hit.passage.text for c in r.base.citations)
    assert "17" not in sources and "王建国" not in sources and "青松" not in sources
    assert r.generated
    got = [(s.ok, s.reason) for s in r.sentences]
    assert got[0] == (True, "") and got[1][0] is False and "17" in got[1][1]
    assert got[2][0] is False and "王建国" in got[2][1]
    assert got[3:] == [(False, "未标注出处"), (False, "引用了不存在的段落")]
    assert "17日" not in r.text and "王建国" not in r.text and uncited not in r.text
    bubble = reply_markdown(r)
    assert "~~" in bubble and "未核实" in bubble and "\\[1\\]" in bubble
    cards = reply_cards(r)
    assert "支持的句子" in cards and "王建国" not in cards


FAILURES = {
    "http500": ("http", "语言模型服务返回错误"),
    "refusal": ("refused", "语言模型拒绝回答"),
    "empty": ("empty", "语言模型没有返回内容"),
    "malformed": ("malformed", "无法解析"),
    "nochoices": ("malformed", "无法解析"),
    "drop": ("lost", "连接中断"),
}


@pytest.mark.parametrize("mode", list(FAILURES))
def test_each_failure_falls_back_with_a_notice(replay, retriever, mode):
    from assistant.answer import answer
    from assistant.generate import reply

    replay.play(mode, text=first_sentence(retriever) * 3 + "[1]。")
    r = reply(retriever, config(replay.url), QUESTION)
    kind, words = FAILURES[mode]
    assert (r.generated, r.failure) == (False, kind)
    assert words in r.notice and r.notice.count("\n") == 0
    assert r.text == f"{r.notice}\n\n{answer(retriever, QUESTION).text}"


def test_timeout_unreachable_and_unsupported_fall_back(replay, retriever):
    from assistant.generate import reply

    replay.play(text="答复[1]。", stall=True)
    r = reply(retriever, config(replay.url, first_token_timeout=0.5), QUESTION)
    assert r.failure == "timeout" and "超时" in r.notice
    r = reply(retriever, config(f"http://127.0.0.1:{free_port()}/v1"), QUESTION)
    assert r.failure == "unreachable" and "无法连接" in r.notice
    replay.play(text="今天天气很好,我们去公园散步吧[1]。足球比赛很精彩[2]。")
    r = reply(retriever, config(replay.url), QUESTION)
    assert r.failure == "unsupported" and len(r.sentences) == 2 and not r.kept
    assert "没有一句" in r.notice


def test_model_is_not_called_when_nothing_is_relevant(replay, retriever):
    from assistant.answer import NOT_FOUND
    from assistant.generate import reply

    replay.play(text="不该出现[1]。")
    r = reply(retriever, config(replay.url), OFF_TOPIC)
    assert not r.base.found and r.text == NOT_FOUND and not replay.requests


def test_cli_ask_with_replay_and_without_a_model(replay, llm_index, tmp_path):
    s1 = first_sentence_cli(llm_index)
    replay.play(text=f"{s1}[1]。编造的内容,共有25个部门参与[1]。")
    out = run_main(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--llm-url", replay.url, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["generated"] and data["model"] == "replay"  # no --llm-model: the one the endpoint serves
    assert replay.requests[0]["model"] == "replay"
    assert [s["ok"] for s in data["sentences"]] == [True, False] and "25" in data["sentences"][1]["reason"]
    code, text, _ = main_outcome(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--llm-url", replay.url)
    assert code == 0 and "未核实,已删去" in text and f"✓ {s1}" in text
    code, plain, _ = main_outcome(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--json")
    assert code == 0 and "generated" not in json.loads(plain)
    code, status, _ = main_outcome(tmp_path, "status", "--index", str(llm_index), "--json", "--llm-url", replay.url)
    assert json.loads(status)["llm"]["reachable"] is True
    code, status, _ = main_outcome(tmp_path, "status", "--index", str(llm_index))
    assert "not configured" in status
    code, _, err = main_outcome(tmp_path, "ask", QUESTION, "--index", str(llm_index), "--llm-model", "m")
    assert code == 1 and "--llm-url" in err


def test_an_endpoint_serving_several_models_must_be_told_which(llm_index, tmp_path):
    several, listless = ReplayServer(["qwen2.5:7b", "llama3.1:8b"]), ReplayServer([])
    try:
        base = ("ask", QUESTION, "--index", str(llm_index), "--llm-url")
        code, out, err = main_outcome(tmp_path, *base, several.url)
        assert code == 1 and not out and "qwen2.5:7b, llama3.1:8b" in err and "--llm-model" in err
        assert not several.requests  # refused before any answer was asked for
        code, status, _ = main_outcome(tmp_path, "status", "--index", str(llm_index), "--llm-url", several.url)
        assert code == 0 and "none chosen" in status and "llama3.1:8b" in status
        several.play(text="答复[1]。")
        code, _, err = main_outcome(tmp_path, *base, several.url, "--llm-model", "llama3.1:8b", "--json")
        assert code == 0 and several.requests[0]["model"] == "llama3.1:8b"
        listless.play(text="答复[1]。")  # no model list at all: the endpoint picks ("default")
        code, _, err = main_outcome(tmp_path, *base, listless.url, "--json")
        assert code == 0 and listless.requests[0]["model"] == "default"
    finally:
        several.close()
        listless.close()


def first_sentence_cli(index) -> str:
    from assistant.service import Assistant

    return first_sentence(Assistant(index).retriever())


def test_eval_answers_reports_checked_sentences(replay, llm_index, tmp_path):
    s1 = first_sentence_cli(llm_index)
    replay.play(text=f"{s1}[1]。资料里没有的第99条规定[1]。")
    qs = tmp_path / "mine.jsonl"
    rows = [{"id": "a", "q": QUESTION, "gold": ["保持冷静"]}, {"id": "b", "q": OFF_TOPIC, "gold": ["x"]}]
    qs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    base = ("eval", str(qs), "--index", str(llm_index))
    code, out, err = main_outcome(tmp_path, *base, "--answers", "--llm-url", replay.url, "--json")
    assert code == 0, err
    a = json.loads(out)[0]["answers"]
    assert (a["questions"], a["not_found"], a["generated"], a["sentences"], a["passed"]) == (2, 1, 1, 2, 1)
    code, text, _ = main_outcome(tmp_path, *base, "--answers", "--llm-url", replay.url)
    assert "generated answers" in text and "0.5" in text
    code, plain, _ = main_outcome(tmp_path, *base, "--json")
    assert code == 0 and "answers" not in json.loads(plain)[0]
    code, _, err = main_outcome(tmp_path, *base, "--answers")
    assert code == 1 and "--llm-url" in err


def test_feedback_records_generation(tmp_path):
    from assistant.feedback import read_log, record_feedback

    path = tmp_path / "fb.jsonl"
    record_feedback(path, rating="up", question="q", history=[], answer="a", passage_ids=[1],
                    generated=True, model="gemma", struck=["编造的句子"])
    record_feedback(path, rating="down", question="q", history=[], answer="a", passage_ids=[])
    rows = read_log(path)  # the rows as stored: the second vote on the answer replaces the first in the export
    assert (rows[0]["generated"], rows[0]["model"], rows[0]["struck"]) == (True, "gemma", ["编造的句子"])
    assert (rows[1]["generated"], rows[1]["model"], rows[1]["struck"]) == (False, "", [])
