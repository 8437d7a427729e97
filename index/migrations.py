"""The index manifest's schema: one version number, brought forward by numbered migrations.

Modelled on simonw/llm's `embeddings_migrations`: `MIGRATIONS` is an ordered list, migration i
(1-based) turns a schema i-1 manifest into a schema i one, and `SCHEMA_VERSION` is their count.
A new way of storing an index is a new function at the end of the list, never an edit of an
old one. Migrations run in memory, on every load (`index.store.read_manifest` calls `migrate`
in one place): the files of a published version are never rewritten; the next ingest writes a
version in the current schema (`stamps`).

The history the migrations encode:
    schema 1  `format_version: 1`: vectors, owners, passages, documents (before this module)
    schema 2  lexical.npz (term counts per passage) is part of a version; older ones recount
    schema 3  `units_version`: the rules of `index.units` the vectors were embedded under
    schema 4  `pipeline`: one fingerprint of everything that shaped the stored data
              (unit rules, word segmentation, term counting, the settings in `ingest_key`)

An index in a newer schema, or embedded under other unit rules, is refused with the command
that fixes it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from index.errors import IndexMismatchError
from index.units import UNITS_VERSION


def m001_format_1(manifest: dict, path: Path) -> dict:
    """Schema 1 is the layout of `format_version: 1`; nothing else was ever published."""
    if manifest.get("format_version") != 1:
        raise ValueError(f"format {manifest.get('format_version')}")
    return {k: v for k, v in manifest.items() if k != "format_version"}


def m002_lexicon_file(manifest: dict, path: Path) -> dict:
    """A version written before term counts were stored has no lexical.npz: record that its
    counts must be made at load (the retriever recounts when `IndexData.lexicon()` is None)."""
    from index.store import LEXICON_FILE  # index.store imports this module

    if LEXICON_FILE in manifest.get("files", {}):
        return manifest
    return {**manifest, "lexical": {"stamp": None, "fields": [], "file": None}}


def m003_units_version(manifest: dict, path: Path) -> dict:
    """Every version from before the stamp was embedded under the first unit rules."""
    return {**manifest, "units_version": 1}


def m004_pipeline(manifest: dict, path: Path) -> dict:
    """The fingerprint of an older version, where what it records determines it: its term counts
    carry the current lexicon stamp, which covers the segmentation. Otherwise unknown (None)."""
    from index.lexical import lexicon_stamp

    known = manifest.get("lexical", {}).get("stamp") == lexicon_stamp()
    return {**manifest, "pipeline": pipeline_fingerprint(manifest) if known else None}


MIGRATIONS = [m001_format_1, m002_lexicon_file, m003_units_version, m004_pipeline]
SCHEMA_VERSION = len(MIGRATIONS)


def pipeline_fingerprint(manifest: dict) -> str:
    """One hash of what shaped a version's data besides the documents and the embedder."""
    from index.segment import dictionary_stamp

    parts = (manifest.get("units_version"), dictionary_stamp(), manifest.get("lexical", {}).get("stamp"),
             manifest.get("ingest_key"))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def stamps(manifest: dict) -> dict:
    """What a version written now records about its schema (merged into its manifest)."""
    current = {**manifest, "units_version": UNITS_VERSION}
    return {"schema_version": SCHEMA_VERSION, "units_version": UNITS_VERSION,
            "pipeline": pipeline_fingerprint(current)}


def schema_of(manifest: dict) -> int:
    """The schema a manifest was written in (0: before `schema_version`, i.e. `format_version`)."""
    found = manifest.get("schema_version", 0)
    return found if isinstance(found, int) and not isinstance(found, bool) else -1


def migrate(manifest: dict, path: Path, root: Path, fix: str, units: Collection[int] = ()) -> dict:
    """`manifest` (of the version in `path`) brought to SCHEMA_VERSION, in memory; refuses with
    `fix` what no migration can serve. An index embedded under other unit rules is refused
    unless they are among `units` (an ingest reads one under rules it can still reproduce, to
    keep the vectors of the units that come out the same)."""
    schema = schema_of(manifest)
    if schema > SCHEMA_VERSION or schema < 0:
        raise IndexMismatchError(f"index at {root} has schema {manifest.get('schema_version')!r}, this version "
                                 f"reads up to {SCHEMA_VERSION}: upgrade qunzhong or {fix}")
    for number, step in enumerate(MIGRATIONS[schema:], schema + 1):
        try:
            manifest = {**step(manifest, path), "schema_version": number}
        except ValueError as exc:
            raise IndexMismatchError(f"index at {root} has {exc}, which no migration reads: {fix}") from None
    if manifest.get("units_version") != UNITS_VERSION and manifest.get("units_version") not in units:
        raise IndexMismatchError(f"index at {root} was embedded under unit rules {manifest.get('units_version')}, "
                                 f"this version embeds under {UNITS_VERSION}: {fix}")
    return manifest
