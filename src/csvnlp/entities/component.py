"""The spaCy component ``csvnlp_names``: phrase lists (the programme registry, the cluster list,
users' gazetteers and the names learned from annotated spans), the rules of ``rules.py``, an
optional trained ``ner`` before it, and the linking of each PROGRAMME span to its canonical id.

It is a registered spaCy factory (also declared as a ``spacy_factories`` entry point), and it
saves and loads its data with spaCy's ``to_disk``/``from_disk``, so ``spacy.load`` on a model's
``entities`` folder restores the whole pipeline from ``config.cfg`` and plain JSON: no pickle.
Each found span carries its id in ``Span.kb_id_`` and in the entity dicts (``"id"``).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, filter_spans

from csvnlp.entities.registry import Registry, normalise
from csvnlp.entities.rules import (
    CLUSTER_WORD_PATTERNS,
    DEFINED_ABBREVIATION,
    ENTITY_LABELS,
    GUIDELINE_KINDS,
    RULE_KINDS,
    SHAPE_PATTERNS,
    shape_matches_by_kind,
)
from csvnlp.regex_guard import Guard, literal_regex

NAMES_COMPONENT = "csvnlp_names"
MERGE_POLICIES = ("rules", "model", "rules_first", "model_first")
# Where a phrase pattern comes from. Registry and gazetteer names are knowledge: neither a
# learned stoplist nor a switched-off rule kind removes them.
PATTERN_KINDS = ("learned", "registry", "gazetteer")
KNOWN_KINDS = frozenset({"registry", "gazetteer"})
# A span found by a rule kind the guideline decides (``rules.GUIDELINE_KINDS``) carries this in
# ``kb_id`` until linking: the learned stoplist, learned from older annotations, keeps it too.
DECIDED = "guideline"


_SPACE = re.compile(r"\s+")
_BODY_AFTER = re.compile(r"[ \t]+(?:Association|Secretariat)\b")
# Where extract_entities leaves each text on its Doc, so the component need not rebuild it
TEXT_KEY = "csvnlp_text"
MAX_LINKS_KEPT = 100_000  # linked names remembered per component (a few MB at most)
# Texts the prefilter tests phrase by phrase (~0.05 ms for 100 characters, ~1 ms for 5,000)
# before it builds its trie regex (~50 ms, then microseconds a text); extract_entities builds
# it at once for a larger batch.
SCANNED_BEFORE_TRIE = 16


@lru_cache(maxsize=1)
def _name_patterns() -> Guard:
    """The rule shapes and cluster words (``may_find_names``), guarded (built on first use)."""
    return Guard((*SHAPE_PATTERNS, *CLUSTER_WORD_PATTERNS))


class NameFinder:
    """Phrase lists plus rule shapes, merged with an optional recognizer, linked to ids.

    Overlaps go to the longer span. ``doc.ents`` is set only when something is found, because
    reading or setting it walks every token, which was a third of the tagging time on texts
    with no names (most of a funding database).
    """

    def __init__(self, nlp: Language, name: str = NAMES_COMPONENT):
        self.name = name
        self.vocab = nlp.vocab
        self._tokenizer = nlp.tokenizer
        self._reset()

    def _reset(self) -> None:
        self.patterns: list[dict[str, str]] = []
        self.matcher = PhraseMatcher(self.vocab, attr="ORTH")
        self.registry = Registry()
        self.ids: dict[tuple[str, str], str] = {}  # (label, phrase) -> id a gazetteer gives
        self._links: dict[tuple[str, str], str | None] = {}  # (label, text) -> link(): names recur across rows
        self._known: set[tuple[str, str]] = set()  # (label, phrase) from the registry or a gazetteer
        # The prefilter (``may_find_names``): the phrases without white space, scanned one by one
        # for the first few texts, then one trie regex, which costs more to build (~50 ms) than a
        # one-text ``classify`` spends on everything after loading. Both answer alike.
        self._squashed: list[str] | None = None  # built on first use: loading adds patterns twice
        # Phrases not yet in the matcher: (match key, phrase, phrase without white space). Each
        # joins it before the first text that can hold it is matched (``_complete_matcher``),
        # all of them once many texts come: tokenizing ~1,300 phrases is ~30 ms of a cold start.
        self._unmatched: list[tuple[str, str, str]] = []
        self._grown = 0  # texts the matcher grew for (after SCANNED_BEFORE_TRIE, it takes every phrase)
        self._prefilter: re.Pattern[str] | None = None
        self._prefilter_built = False
        self._scanned = 0
        # How rule spans and the trained recognizer's spans (doc.ents set by the "ner" before
        # this component) combine, per label; chosen on held-out training records at train time.
        self.policy: dict[str, str] = {label: "rules" for label in ENTITY_LABELS}
        self.triggers: list[str] = []
        self._triggers: re.Pattern[str] | None = None
        self.disabled_rules: list[str] = []
        self.stoplist: set[tuple[str, str]] = set()
        self.tails: list[str] = []

    # ------------------------------------------------------------------ configuration
    def set_registry(self, registry: Registry) -> None:
        """Use ``registry`` for linking and add its names as phrases (kind ``registry``)."""
        self.registry = registry
        self._links = {}
        self.add_patterns({**p, "kind": "registry"} for p in registry.phrases())

    def set_reliability(self, disabled_rules: Iterable[str], stoplist: Iterable[Sequence[str]], tails: Iterable[str] = ()) -> None:
        """Switch off rule kinds and names the training annotations disagree with, and extend
        programme names by the tails they add (see ``learning.learn_rule_reliability``)."""
        self.disabled_rules = sorted(set(disabled_rules) & set(RULE_KINDS))
        self.stoplist = {(label, name) for label, name in stoplist}
        self.tails = sorted(set(tails), key=lambda tail: (-len(tail), tail))  # longest first; ties by text, so the saved order is the same every run

    def set_policy(self, policy: dict[str, str]) -> None:
        unknown = {v for v in policy.values()} - set(MERGE_POLICIES)
        if unknown or set(policy) != set(ENTITY_LABELS):
            raise ValueError(f"an entity policy maps {ENTITY_LABELS} to one of {MERGE_POLICIES}, not {policy}")
        self.policy = dict(policy)

    def set_triggers(self, words: Iterable[str]) -> None:
        from csvnlp.entities.recognizer import trigger_regex

        self.triggers = sorted(set(words))
        self._triggers = trigger_regex(self.triggers)

    def add_patterns(self, patterns: Iterable[dict[str, str]]) -> None:
        """Phrase patterns ``{"label", "pattern", "source", "id"?, "kind"?}`` (kind defaults to
        ``learned``); matched on exact text (case-sensitive, so "Systematic" the cluster does
        not match "systematic" the adjective)."""
        for pattern in patterns:
            pattern = {k: str(v) for k, v in pattern.items() if v is not None}
            kind = pattern.setdefault("kind", "learned")
            if kind not in PATTERN_KINDS or pattern.get("label") not in ENTITY_LABELS:
                raise ValueError(f"a phrase pattern has a label in {ENTITY_LABELS} and a kind in {PATTERN_KINDS}: {pattern}")
            self.patterns.append(pattern)
            self._unmatched.append((f"{pattern['label']}|{kind}", pattern["pattern"], _SPACE.sub("", pattern["pattern"])))
            key = (pattern["label"], pattern["pattern"])
            self._links = {}
            if kind in KNOWN_KINDS:
                self._known.add(key)
                if pattern.get("id") and kind == "gazetteer":
                    self.ids[key] = pattern["id"]
        # The PhraseMatcher matches a phrase's tokens consecutively, and consecutive tokens are
        # separated in the text by white space or by nothing. So a text it matches contains the
        # phrase with its white space removed once the text's white space is removed too: a
        # superset test that needs no tokenizing (``may_find_names``).
        self._squashed, self._prefilter, self._prefilter_built, self._scanned, self._grown = None, None, False, 0, 0

    # ------------------------------------------------------------------ finding
    def prepare(self) -> None:
        """Build now what many texts need (before tagging them or forking workers): the trie
        regex of ``may_find_names`` and the phrase matcher with every phrase."""
        if not self._prefilter_built:
            # only .search is asked of it, so a trie that stops at the shortest phrase is enough
            self._prefilter = literal_regex(self._squashed_phrases())
            self._prefilter_built = True
        self._complete_matcher(None)

    def _complete_matcher(self, text: str | None) -> None:
        """Add to the matcher the phrases it lacks that could match ``text`` (None: all of them),
        in the order they were given. A phrase it matches has its tokens consecutive in the text,
        so the text without white space holds the phrase without white space (as in
        ``may_find_names``): the matches in ``text`` are those of a matcher holding every phrase.
        (``serve`` classifies in threads: a phrase two threads both add is in the matcher once,
        and the list of waiting phrases is replaced only after its phrases were added.)"""
        if not self._unmatched:
            return
        squashed = None if text is None else "".join(text.split())
        waiting = []
        for key, phrase, phrase_squashed in self._unmatched:
            if squashed is None or phrase_squashed in squashed:
                self.matcher.add(key, [self._tokenizer(phrase)])
            else:
                waiting.append((key, phrase, phrase_squashed))
        self._unmatched = waiting

    def _squashed_phrases(self) -> list[str]:
        if self._squashed is None:
            self._squashed = sorted({squashed for p in self.patterns if (squashed := _SPACE.sub("", p["pattern"]))})
        return self._squashed

    def may_find_names(self, text: str) -> bool:
        """False only when this component would certainly find nothing in ``text``."""
        # (str.split and the regex's \s agree on every code point; split is the cheaper)
        squashed = "".join(text.split())
        if not self._prefilter_built and self._scanned < SCANNED_BEFORE_TRIE:
            self._scanned += 1
            if any(phrase in squashed for phrase in self._squashed_phrases()):
                return True
        else:
            if not self._prefilter_built:
                self.prepare()
            if self._prefilter is not None and self._prefilter.search(squashed):
                return True
        if self._triggers is not None and self._triggers.search(text):
            return True
        # any(p.search(text) for p in SHAPE_PATTERNS) or _has_cluster_word(text), answered at
        # once for the texts that hold none of the strings these patterns require
        return _name_patterns().search(text)

    def rule_spans(self, doc: Doc, disabled: Sequence[str] | None = None) -> list[Span]:
        """Phrase matches (label from the match key) and rule shapes, with programme tails."""
        text = doc.user_data.get(TEXT_KEY) or doc.text  # doc.text walks every token to rebuild the text
        if self._unmatched:  # (the pipeline run on many texts without extract_entities: training, scoring)
            self._grown += 1
            self._complete_matcher(text if self._grown <= SCANNED_BEFORE_TRIE else None)
        spans = []
        for match_id, start, end in self.matcher(doc):
            label, kind = self.vocab.strings[match_id].split("|")
            spans.append(Span(doc, start, end, label=label, kb_id=kind))
        off = set(self.disabled_rules if disabled is None else disabled)
        for start, end, label, kind in shape_matches_by_kind(text):
            if kind in off:
                continue
            span = doc.char_span(start, end, label=label, alignment_mode="contract", kb_id=DECIDED if kind in GUIDELINE_KINDS else "")
            # a shape cut by a token boundary to a dash-edged piece ("-EuropePMC-SUP-2013") is no name
            # nor is one cut before its last word ("European Partnership on" of "... on photonics.null")
            if span is not None and len(span) and not span.text.startswith("-") and not span.text.endswith(("-", " on", " for")):
                spans.append(span)
        known = {s.text for s in spans if s.label_ == "PROGRAMME"}
        for span in list(spans):
            if span.label_ != "PROGRAMME":
                continue
            defined = DEFINED_ABBREVIATION.match(text, span.end_char)
            if defined and defined.group(1) not in known:  # "Employment Aid Programme (EAP)": every later "EAP"
                known.add(defined.group(1))
                for match in re.finditer(rf"(?<![\w-]){re.escape(defined.group(1))}(?![\w-])", text):
                    found = doc.char_span(*match.span(), label="PROGRAMME", alignment_mode="contract")
                    if found is not None and found.text == defined.group(1):
                        spans.append(found)
            for tail in self.tails:
                end = span.end_char + len(tail)
                if text.startswith(tail, span.end_char) and not text[end:end + 1].isalnum():
                    longer = doc.char_span(span.start_char, end, label="PROGRAMME", alignment_mode="contract")
                    if longer is not None:
                        spans.append(longer)
                    break
        return spans

    def is_known(self, span: Span) -> bool:
        """A name from the registry or a gazetteer (by match or by its text)."""
        return span.kb_id_ in KNOWN_KINDS or (span.label_, span.text) in self._known or (
            span.label_ == "PROGRAMME" and normalise(span.text) in self.registry.aliases)

    def link(self, span: Span) -> str | None:
        """The canonical id of a found name, or None when csvnlp does not know it."""
        key = (span.label_, span.text)
        if key not in self._links:
            if len(self._links) >= MAX_LINKS_KEPT:
                self._links.clear()
            self._links[key] = self._link(*key)
        return self._links[key]

    def _link(self, label: str, text: str) -> str | None:
        given = self.ids.get((label, text))
        if given:
            return given
        return self.registry.link(text) if label == "PROGRAMME" else None

    def __call__(self, doc: Doc) -> Doc:
        # The recognizer's spans matter only when the policy uses them; reading doc.ents walks
        # every token, so a rules-only pipeline never does (the tagging hot path).
        uses_model = any(how != "rules" for how in self.policy.values())
        model = list(doc.ents) if uses_model and doc.has_annotation("ENT_IOB") else []
        rules = self.rule_spans(doc)
        spans = merge_spans(rules, model, self.policy)
        # "the EDCTP Association", "AI, Data and Robotics Association": a body named after the
        # programme, which guideline 6.2 says is an organisation, not a PROGRAMME
        text = doc.user_data.get(TEXT_KEY) or doc.text
        spans = [s for s in spans if s.label_ != "PROGRAMME" or not _BODY_AFTER.match(text, s.end_char)]
        if self.stoplist:
            decided = {(s.start, s.end) for s in rules if s.kb_id_ == DECIDED}
            spans = [s for s in spans if (s.label_, s.text) not in self.stoplist or self.is_known(s) or (s.start, s.end) in decided]
        linked = [Span(doc, s.start, s.end, label=s.label_, kb_id=self.link(s) or "") for s in spans]
        if linked or model:
            doc.ents = linked
        doc.user_data[NAMES_COMPONENT] = [_entity(span) for span in linked]
        return doc

    # ------------------------------------------------------------------ persistence (spaCy)
    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        """patterns.jsonl (one phrase a line), settings.json, registry.json: plain data."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in self.patterns if p["kind"] != "registry"]
        (path / "patterns.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        settings = {"policy": self.policy, "triggers": self.triggers, "disabled_rules": self.disabled_rules,
                    "stoplist": sorted(self.stoplist), "tails": self.tails}
        (path / "settings.json").write_text(json.dumps(settings, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (path / "registry.json").write_text(json.dumps(self.registry.to_data(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> "NameFinder":
        """Rebuild from ``to_disk``'s files; raise ValueError on a malformed pattern line."""
        path = Path(path)
        patterns = []
        for number, line in enumerate((path / "patterns.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            pattern = json.loads(line)
            if not (isinstance(pattern, dict) and isinstance(pattern.get("label"), str) and isinstance(pattern.get("pattern"), str)):
                raise ValueError(f"patterns.jsonl line {number} is not a {{'label', 'pattern'}} object")
            patterns.append(pattern)
        settings = json.loads((path / "settings.json").read_text(encoding="utf-8"))
        self._reset()
        self.set_registry(Registry.from_data(json.loads((path / "registry.json").read_text(encoding="utf-8"))))
        self.add_patterns(patterns)
        self.set_policy(settings["policy"])
        self.set_triggers(settings.get("triggers", []))
        self.set_reliability(settings.get("disabled_rules", []), settings.get("stoplist", []), settings.get("tails", []))
        return self


def merge_spans(rules: Sequence[Span], model: Sequence[Span], policy: dict[str, str]) -> list[Span]:
    """Per label: only the rules' spans, only the model's, or both with one side winning
    where they overlap; then the longest of any overlapping spans left."""
    chosen: list[Span] = []
    for label in ENTITY_LABELS:
        mine = [s for s in rules if s.label_ == label]
        theirs = [s for s in model if s.label_ == label]
        how = policy.get(label, "rules")
        if how == "rules":
            chosen += mine
        elif how == "model":
            chosen += theirs
        else:
            first, second = (mine, theirs) if how == "rules_first" else (theirs, mine)
            first_all = rules if how == "rules_first" else model
            chosen += first + [s for s in second if not any(s.start < o.end and o.start < s.end for o in first_all)]
    return filter_spans(chosen)


@Language.factory(NAMES_COMPONENT)
def make_name_finder(nlp: Language, name: str) -> NameFinder:
    return NameFinder(nlp, name)


def blank_pipeline() -> Language:
    """``spacy.blank("en")`` whose tokenizer also splits names glued to what follows."""
    nlp = spacy.blank("en")
    # Funding databases glue names to what follows: "SERV-01-01[9]", "AVEP(Spain", mojibake
    # "2020â€™", and sentences without a space ("Horizon 2020.The"). Without these splits a
    # name's last token swallows the rest and a span can only end a token early. The
    # ".Capital" split is justified by the training records alone: six gold spans of the
    # training split end right before such a glued sentence ("LIFE programme.Proj",
    # "EU Cancer Mission.The", "Euratom Programme.The", ...).
    infixes = list(nlp.Defaults.infixes) + [
        r"(?<=[A-Za-z])\((?=[A-Za-z])", r"(?<=[\"'])\((?=[A-Z])", r"[\[\]]", r"(?<=[0-9A-Za-z)\]])\.(?=[A-Z][a-z])", r"(?<=[0-9A-Za-z])[)\]](?=\.[A-Z][a-z])", r"â€.?", r"(?<=[0-9])\.(?=[\[(])", r"[\x80-\x9f]",
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # A call identifier ends at its last letter or digit: a trailing dash ("...-01-02-") or a
    # full stop after its last digits ("...-ERA-02-03.[3]") is its own token; mojibake quotes
    # open a name too ("â€˜A Soil Deal for Europeâ€™"). (Issue 17; the last two from the
    # fresh split's development part.)
    nlp.tokenizer.suffix_search = compile_suffix_regex(list(nlp.Defaults.suffixes) + [r"(?<=[0-9A-Za-z])-", r"(?<=[0-9])\.", r"(?<=[A-Za-z])/", r"[\x80-\x9f]"]).search
    # Windows-1252 quotes and dashes read as C1 control characters ("\x91Building Better
    # Opportunities\x92", "Opportunities \x96 Coast") are punctuation too.
    nlp.tokenizer.prefix_search = compile_prefix_regex([r"â€.?", r"[\x80-\x9f]"] + list(nlp.Defaults.prefixes)).search
    return nlp


def add_gazetteer(nlp: Language, patterns: Iterable[dict[str, str]]) -> Language:
    """Add a user's names (``registry.read_gazetteer``) to ``nlp``'s component as knowledge:
    found wherever they occur, with the id the user gives."""
    nlp.get_pipe(NAMES_COMPONENT).add_patterns({**p, "kind": "gazetteer"} for p in patterns)  # type: ignore[attr-defined]
    return nlp


def doc_entities(doc: Doc) -> list[dict[str, Any]]:
    found = doc.user_data.get(NAMES_COMPONENT)
    return list(found) if found is not None else [_entity(span) for span in doc.ents]


def _entity(span: Span) -> dict[str, Any]:
    return {"text": span.text, "label": span.label_, "start": span.start_char, "end": span.end_char, "id": span.kb_id_ or None}


# spaCy's tokenizer takes time quadratic in the length of a run without white space (prefixes
# and suffixes are peeled off one at a time): 2,000 commas take 0.9 s, 8,000 take 10 s, and a
# 200,000-character run would stall a batch for hours. Runs longer than this get a space every
# MAX_RUN characters before tokenizing (same length, so offsets still point into the text).
MAX_RUN = 200
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))


def tokenizable(text: str) -> str:
    """``text`` with every run of more than MAX_RUN non-space characters broken by a space every
    MAX_RUN characters; the same length, so character offsets are unchanged."""
    # (a run is a piece str.split returns: it splits on exactly the regex's white space)
    if len(text) <= MAX_RUN or max(map(len, text.split()), default=0) <= MAX_RUN:
        return text

    def cut(match: re.Match[str]) -> str:
        run = match.group(0)
        return "".join(" " if (i + 1) % (MAX_RUN + 1) == 0 else ch for i, ch in enumerate(run))

    return _LONG_RUN.sub(cut, text)


def _text_doc(nlp: Language, text: str) -> Doc:
    """``nlp.make_doc(text)`` that also carries ``text`` (spaCy's tokenizer loses no character,
    so it is what ``doc.text`` would rebuild)."""
    doc = nlp.make_doc(text)
    doc.user_data[TEXT_KEY] = text
    return doc


def extract_entities(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> Iterator[list[dict[str, Any]]]:
    """Entities of each text, as plain dicts with character offsets into the input and the
    canonical ``id`` of each name (None when unknown).

    Texts in which no phrase and no name shape can occur skip the spaCy pipeline (most rows of
    a funding database name no cluster or programme); the others run through it in full, so
    the result is the same as running every text.
    """
    finder = nlp.get_pipe(NAMES_COMPONENT) if NAMES_COMPONENT in nlp.pipe_names else None
    safe = [tokenizable(text) for text in texts]  # the prefilter sees what the pipeline sees
    if finder is not None and len(safe) > SCANNED_BEFORE_TRIE:
        finder.prepare()
    candidates = [i for i, text in enumerate(safe) if finder is None or finder.may_find_names(text)]
    docs = nlp.pipe((_text_doc(nlp, safe[i]) for i in candidates), batch_size=batch_size)
    found = dict(zip(candidates, (doc_entities(doc) for doc in docs)))
    for i in range(len(texts)):
        entities = found.get(i, [])
        if safe[i] is not texts[i]:  # names are quoted from the text as given
            entities = [{**e, "text": texts[i][e["start"] : e["end"]]} for e in entities]
        yield entities
