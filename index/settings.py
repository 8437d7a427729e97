"""Every tunable choice in one self-documenting table, recorded in the index manifest.

Each field has a default and a one-line help (datasette's `Setting(name, default, help)`):
`Settings.table()` lists them, `qunzhong --help-settings` prints them, and the query-time ones
can be changed per process with `--setting NAME VALUE`. The choices in `INGEST_FIELDS` shape
passages: they are read back from the index they built, never overridden at query time.

Two numbers are constants on purpose, not settings: `index.units.WINDOW` defines the
duplicate metric of the eval sets (changing it changes what is measured, not how well), and
`index.embedders.MAX_CHARS` is the engines' input limit (512 tokens) that embedders, which have
no settings object, clip to.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from index.errors import ConfigError


def _s(default, help_: str):
    """A field with its default and one-line help."""
    return field(default=default, metadata={"help": help_})


@dataclass(frozen=True)
class Settings:
    # Splitting (changing these rebuilds every document).
    max_chars: int = _s(440, "a passage is a sentence group of at most this many characters")
    min_chars: int = _s(60, "a shorter tail is merged into its neighbour passage")
    context_title: bool = _s(False, "prepend the document title to the text the embedder sees")
    semantic_cleaning: bool = _s(True, "let the cleaner use embeddings to find inserted sentences")
    units: str = _s("sentence+path", 'what is embedded: each sentence led by its section path ("sentence+path"), '
                    'or path and sentence embedded apart, each path once per document ("sentence+pooled-path")')
    max_file_bytes: int = _s(50 * 1024 * 1024, "ingest skips (and reports) larger files")
    # Retrieval (query time; read from the manifest, may be overridden per process).
    candidates: int = _s(45, "dense scores are min-max scaled over this many best passages")
    dense_weight: float = _s(0.5, "fusion weight of the best-sentence cosine")
    lexical_weight: float = _s(0.25, "fusion weight of BM25 on jieba words")
    bigram_weight: float = _s(0.25, "fusion weight of BM25 on character bigrams")
    character_weight: float = _s(0.1, "fusion weight of BM25 on single characters, for an English question's dictionary translation")
    history_weight: float = _s(0.6, "pull of earlier user turns on a follow-up question")
    history_turns: int = _s(2, "earlier user turns a follow-up is read with (the most recent ones)")
    followup_short: int = _s(10, "a question with fewer letters than this leans fully on its conversation")
    followup_weak: float = _s(0.33, "share of the history pull for a follow-up that does not point back")
    max_query_chars: int = _s(500, "a longer question is read as its first and last half of this many characters")
    translation_weight: float = _s(1.0, "an English question's pull toward its dictionary translation")
    feedback_passages: int = _s(20, "passages an English question's first vector finds, to choose translations")
    thesaurus: bool = _s(True, "an English word whose translations those passages never use also takes their Cilin synonyms")
    hub_weight: float = _s(1.0, "a unit's cosine loses this times how much nearer than usual it is to general questions (CSLS)")
    hub_neighbours: int = _s(75, "a unit's usual nearness: its mean cosine to this many closest general questions")
    english_components: int = _s(0, "an English question is ranked with the index's mean and this many principal directions removed (0: off; see docs/retrieval.md)")
    relevance_floor: float = _s(0.019, "best passage must beat the general-vocabulary background by this")
    background_top: int = _s(10, "the background is the mean of the question's closest entries")
    answer_points: int = _s(3, "points in an extractive answer")
    citation_slack: float = _s(0.02, "a cited passage may fall this far below the floor")
    label_high: float = _s(0.07, "card label 高度相关 at this margin or more")
    label_mid: float = _s(0.035, "card label 相关 at this margin or more, else 可能相关")
    exact_units: int = _s(200_000, "up to this many unit vectors every one is scanned exactly (index.ann)")
    faiss_kind: str = _s("auto", "FAISS index kind at ingest; auto: index.ann.choose_kind")
    # Citation check of generated answers (assistant.check; calibration in README "Generated answers").
    check_dense_floor: float = _s(0.88, "a sentence's best cosine to a cited passage's sentences")
    check_lexical_floor: float = _s(0.6, "share of a sentence's content words (or bigrams) found in the passage")
    check_dense_floor_cross: float = _s(0.83, "the cosine floor for a sentence read across languages (English)")

    INGEST_FIELDS = ("max_chars", "min_chars", "context_title", "semantic_cleaning", "units")
    # Fields removed from the table, with the value every index was built under: they stay in
    # `ingest_key` so indexes built before their removal keep their key (and are not re-embedded).
    RETIRED = {}  # none now (`units` came back as a real choice)

    def ingest_key(self) -> str:
        """Hash of the choices that shape passages: a change forces re-embedding."""
        data = {**self.RETIRED, **{k: getattr(self, k) for k in self.INGEST_FIELDS}}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def table(cls) -> list[tuple[str, type, object, str]]:
        """(name, type, default, help) for every setting, in declaration order."""
        return [(f.name, type(f.default), f.default, f.metadata["help"]) for f in dataclasses.fields(cls)]

    @classmethod
    def parse_overrides(cls, pairs) -> dict:
        """{name: typed value} from (NAME, VALUE) strings; ConfigError naming the valid settings."""
        kinds = {name: kind for name, kind, _, _ in cls.table() if name not in cls.INGEST_FIELDS}
        out = {}
        for name, value in pairs or ():
            if name not in kinds:
                why = "shapes passages and is set at ingest" if name in cls.INGEST_FIELDS else "is not a setting"
                raise ConfigError(f"--setting {name} {why}; valid: {', '.join(kinds)} (see --help-settings)")
            out[name] = _typed(name, value, kinds[name])
        return out

    @classmethod
    def for_index(cls, recorded: dict | None, **overrides) -> "Settings":
        """The settings to query an index with: the choices that shaped its passages as it
        recorded them, query-time choices from this version of the code (and `overrides`)."""
        shaped = {k: v for k, v in (recorded or {}).items() if k in cls.INGEST_FIELDS}
        return cls.from_dict({**shaped, **overrides})

    @classmethod
    def from_dict(cls, data: dict | None) -> "Settings":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _typed(name: str, value: str, kind: type):
    """`value` read as `kind` (int, float, bool or str)."""
    try:
        if kind is bool:
            if value.lower() not in _TRUE | _FALSE:
                raise ValueError
            return value.lower() in _TRUE
        return kind(value)
    except ValueError:
        raise ConfigError(f"--setting {name} needs a value of type {kind.__name__}, not {value!r}") from None
