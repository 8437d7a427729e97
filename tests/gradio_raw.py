"""Raw calls into a running Gradio app by fn_index, as a browser (or an attacker) makes them:
POST queue/join, then read the session's event stream until the event completes."""
from __future__ import annotations

import json
import uuid

import httpx


def config(url: str) -> dict:
    return httpx.get(url + "config", timeout=30).json()


def fn_index(cfg: dict, elem_id: str | None, trigger: str) -> int:
    """The dependency fired by `trigger` on the component with `elem_id`."""
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in cfg["components"]}
    for i, dep in enumerate(cfg["dependencies"]):
        if any(ids.get(t[0]) == elem_id and t[1] == trigger for t in dep["targets"]):
            return i
    raise KeyError((elem_id, trigger))


def call(url: str, fn: int, data: list, session: str | None = None, event_data=None,
         timeout: float = 120) -> dict:
    """{"success": bool, "data": outputs or None, "logs": [(level, message), ...], "status": http}"""
    session = session or uuid.uuid4().hex[:10]
    with httpx.Client(base_url=url, timeout=timeout) as http:
        joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session,
                                                         "event_data": event_data, "trigger_id": None})
        if joined.status_code != 200:
            return {"success": False, "data": None, "logs": [], "status": joined.status_code,
                    "detail": joined.text}
        event = joined.json()["event_id"]
        logs = []
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") not in (None, event):
                    continue
                if msg.get("msg") == "log":
                    logs.append((msg.get("level"), msg.get("log")))
                if msg.get("msg") == "process_completed":
                    out = msg.get("output") or {}
                    return {"success": bool(msg.get("success")), "data": out.get("data"), "logs": logs,
                            "status": 200, "detail": out.get("error")}
                if msg.get("msg") == "close_stream":
                    break
    return {"success": False, "data": None, "logs": logs, "status": 200, "detail": "stream closed"}
