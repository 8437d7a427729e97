"""The pipeline a user builds from the LangChain RAG tutorial: the baseline every figure is compared to.

RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50) over the raw text of each
file (no cleaning, no structure; a .docx, .pdf or .html file's text as our loader extracts it,
the tutorial's document loaders' job; a .txt file as read), the same embedder (multilingual-e5-small with the passage:/query:
prefixes), FAISS IndexFlatIP; retrieve = embed the question + search; answer = the top
chunks "stuffed" into one reply (what the tutorial's chain hands an LLM; there is none
here, as in ours). It has no incremental ingest: every ingest rebuilds everything.

    python -m benchmarks.tutorial search QUESTION --index DIR
    python -m benchmarks.tutorial serve --index DIR --port N     (gr.api /chat, like ours)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

CHUNK_SIZE, CHUNK_OVERLAP = 500, 50
EMBED_BATCH = 16
K = 5


@dataclass
class Tutorial:
    embedder: object
    chunks: list[dict]
    index: object

    @classmethod
    def build(cls, files: Sequence[Path], embedder) -> "Tutorial":
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        chunks = [{"source": str(f), "text": t} for f in files for t in splitter.split_text(raw_text(f))]
        texts = [c["text"] for c in chunks]
        parts = [embedder.embed_passages(texts[i:i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
        index = faiss.IndexFlatIP(embedder.dim)
        if parts:
            index.add(np.vstack(parts))
        return cls(embedder, chunks, index)

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "index.faiss"))
        (folder / "chunks.json").write_text(json.dumps(self.chunks, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, embedder) -> "Tutorial":
        import faiss

        chunks = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        return cls(embedder, chunks, faiss.read_index(str(folder / "index.faiss")))

    def retrieve(self, question: str, k: int = K) -> list[dict]:
        vec = self.embedder.embed_queries([question])
        scores, ids = self.index.search(vec, k)
        return [{**self.chunks[i], "score": float(s)} for s, i in zip(scores[0], ids[0]) if i >= 0]

    def answer(self, question: str, k: int = K) -> dict:
        hits = self.retrieve(question, k)
        context = "\n\n".join(f"[{n}] {h['text']}" for n, h in enumerate(hits, 1))
        return {"query": question, "answer": context, "sources": [h["source"] for h in hits]}


def raw_text(path: Path) -> str:
    """The file's text before any cleaning: what a LangChain document loader hands the splitter."""
    from ingest.loaders import load_file

    return load_file(path).text


def files_of(corpus: Path) -> list[Path]:
    return sorted(p for p in Path(corpus).rglob("*") if p.is_file() and not p.name.startswith("."))


def _embedder():
    from index.embedders import get_embedder

    return get_embedder("e5-small")


def serve(folder: Path, port: int) -> None:
    import gradio as gr

    tut = Tutorial.load(folder, _embedder())

    def chat(question: str, history: list[str] | None = None) -> dict:
        return tut.answer(question)  # the tutorial ignores the conversation

    with gr.Blocks(title="tutorial") as app:
        gr.api(chat, api_name="chat")
    app.queue(default_concurrency_limit=8)
    app.launch(server_name="127.0.0.1", server_port=port, show_error=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tutorial", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("search")
    s.add_argument("question", nargs="+")
    s.add_argument("--index", type=Path, required=True)
    s = sub.add_parser("serve")
    s.add_argument("--index", type=Path, required=True)
    s.add_argument("--port", type=int, default=7861)
    args = p.parse_args(argv)
    if args.cmd == "serve":
        serve(args.index, args.port)
        return 0
    hits = Tutorial.load(args.index, _embedder()).retrieve(" ".join(args.question))
    sys.stdout.write(json.dumps(hits, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
