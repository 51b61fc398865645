"""The spaCy pipeline that finds CLUSTER and PROGRAMME names.

Built on ``spacy.blank("en")`` (no downloaded model), with one component,
``csvnlp_names``, that finds

1. phrases learned from the annotated spans of the training corpus (case-sensitive, so
   "Systematic" the cluster does not match "systematic" the adjective);
2. general patterns for names never seen in training: call
   identifiers (``COS-CLUSTER-2015-3-02``, ``HORIZON-CL6-2021-...``), programme names
   (Horizon 2020, COSME, INNOSUP, INTERREG MED, Erasmus+, ERDF, ...) and the shapes of cluster
   names ("... Cluster", "Cluster ...", "... Clust-ER", "... Partnership", "Pôle ...").

Where two candidates overlap the longer wins, so a learned "Interreg MED Programme" beats
the shape "Interreg MED".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, filter_spans

ENTITY_LABELS = ("CLUSTER", "PROGRAMME")
NAMES_COMPONENT = "csvnlp_names"

# A capitalised word inside a name (letters, digits, &, apostrophes, dots and dashes allowed).
_CAP = r"[A-ZÀ-Þ][\w&’'.\-]*"
_CONNECT = r"(?:de|del|della|di|da|do|des|du|d’|of|for|and|in|y|e|et|&)"
_NAME_TAIL = rf"(?:\s+(?:{_CAP}|{_CONNECT}))*(?:\s+[–-]\s+[A-Z][A-Z0-9]+)?"
# Field labels that follow "Cluster" in a case text ("Cluster Partners: ...") are no names.
_NOT_A_NAME = r"(?!(?:Partners?|Participants?|Project|Members?)\b)"

CALL_IDENTIFIER = re.compile(
    r"(?<![\w-])[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-(?:19|20)\d\d(?:-[A-Za-z0-9]+)*(?![\w-])"
)
PROGRAMME_NAMES = re.compile(
    r"(?<![\w-])(?:"
    r"Horizon\s+(?:2020|Europe)|H2020|FP[4-9]|COSME|INNOSUP(?:-\d+)?|"
    r"(?:INTERREG|Interreg)(?:\s+(?:MED|Med|SUDOE|Sudoe|Europe|EUROPE|IV[ABC]?|V[ABC]?|"
    r"Atlantic Area|Alpine Space|North Sea|Baltic Sea Region|Central Europe|Danube|ADRION|"
    r"NEXT MED|Euro-MED|Euro-Med|POCTEFA|MAC|ALCOTRA))?(?:\s+Programme)?|"
    r"Erasmus\+|LIFE|PRIMA|ERDF|ESF\+?|EAFRD|EMFF|EMFAF|Cohesion\s+Fund|"
    r"European\s+Regional\s+Development\s+Fund|European\s+Social\s+Fund(?:\s+Plus)?|"
    r"Marie\s+Sk[łl]odowska-Curie\s+Actions?|MSCA|ERC|EIC\s+(?:Accelerator|Pathfinder|Transition)|"
    r"SME\s+Instrument|Digital\s+Europe(?:\s+Programme)?|Creative\s+Europe|Eurostars|EUREKA|"
    r"Single\s+Market\s+Programme|VINNOVA|Vinnova|Innosuisse|Innovate\s+UK|"
    r"(?:{cap}\s+){{1,4}}(?:Programme|Programm|Program)"
    r")(?![\w+-])".format(cap=_CAP)
)
CLUSTER_SHAPES = re.compile(
    "|".join(
        [
            rf"(?:{_CAP}\s+){{1,5}}Cl[uú]ster(?![\w-])",  # "SCC Cluster", "Basque Environment Cluster"
            rf"Cl[uú]ster(?:ul)?\s+{_NOT_A_NAME}{_CAP}{_NAME_TAIL}",  # "Cluster TIC SANTE Nouvelle-Aquitaine"
            rf"{_CAP}(?:\s+(?:{_CAP}|{_CONNECT}|&;?)){{0,4}}\s+Clust-E[Rr](?![\w-])",  # "Energy & Environment Clust-ER"
            rf"Clust-E[Rr]\s+{_CAP}{_NAME_TAIL}",  # "Clust-ER Agroalimentare"
            rf"(?:{_CAP}\s+){{1,4}}Partnership(?![\w-])",  # "Catalan Water Partnership"
            rf"P[ôo]le\s+{_CAP}{_NAME_TAIL}",  # "Pôle Mer Méditerranée"
        ]
    )
)
# Words that open a sentence rather than a name ("The Cluster ...", "This Partnership").
_LEADING_NOISE = {
    "The", "This", "That", "These", "Those", "A", "An", "Each", "Every", "Our", "Their", "Its",
    "In", "With", "For", "By", "As", "At", "On", "From", "And", "Of", "To", "All", "Both",
    "European", "New", "Strategic", "Regional", "National", "Local",
}
_TRAILING_NOISE = {w.strip("()") for w in _CONNECT.strip("(?:)").split("|")} | {"Cluster", "Clúster"}


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop sentence-opening words before a name and connectors after it."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if not words:
        return None
    first, last = 0, len(words) - 1
    core = {"Cluster", "Clúster", "Clust-ER", "Clust-Er", "Partnership"}
    while first < last and words[first].group() in _LEADING_NOISE:
        first += 1
    while last > first and words[last].group() in _TRAILING_NOISE - core and words[first].group() in core:
        last -= 1
    new_start, new_end = start + words[first].start(), start + words[last].end()
    # a sentence's full stop is not part of the name (an abbreviation like "Mar.In.E.M." is)
    if text[new_end - 1] in ".," and text[new_start:new_end].count(".") == 1:
        new_end -= 1
    if text[new_start:new_end] in core | {"Pôle", "Pole"}:
        return None
    return new_start, new_end


# "Cluster partners: A (ES), B and C (FR)": every name in such a list is a cluster, whatever its
# shape ("Solartys", "Vegepolys"). Submissions and case write-ups use this field often.
PARTNER_LIST = re.compile(
    r"(?im)^[ \t]*(?:cluster partners?|clusters? partners?|clusters participants|"
    r"clusters as participants in the project|participating clusters)[ \t]*:[ \t]*(?P<list>.+)$"
)
_LIST_SEPARATORS_STRONG = re.compile(r"(?<!&);")  # "Energy &; Environment" is one name
_LIST_SEPARATORS = re.compile(r",|\band\b")
_NAME_CONNECTORS = {"de", "del", "della", "di", "da", "do", "des", "du", "of", "for", "and", "in", "per", "la", "le", "y", "e", "et", "z", "&", "&;", "-", "–"}
_ROLE_SUFFIX = re.compile(r"\s+as\s+(?:coordinator|leader|lead partner|partner)\s*$", re.I)

SHAPE_PATTERNS = (CALL_IDENTIFIER, PROGRAMME_NAMES, CLUSTER_SHAPES, PARTNER_LIST)


def partner_list_matches(text: str) -> Iterator[tuple[int, int, str]]:
    """Names listed after a "Cluster partners:" label, as character spans."""
    for match in PARTNER_LIST.finditer(text):
        start, end = match.span("list")
        segment = text[start:end]
        sentence_end = re.search(r"\.\s+(?=[A-Z])|\.\s*$", segment)
        if sentence_end:
            segment = segment[: sentence_end.start()]
        if ": " in segment:  # "seven clusters ... of this solution: A; B; C"
            cut = segment.rindex(": ") + 2
            start, segment = start + cut, segment[cut:]
        if not segment[:1].isupper():  # "clusters from Denmark, ...", "no formal cluster ...": no names
            continue
        # blank out "(Spain)"-style brackets, keeping offsets
        work = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group(0)), segment)
        splitter = _LIST_SEPARATORS_STRONG if _LIST_SEPARATORS_STRONG.search(work) else _LIST_SEPARATORS
        at = 0
        for piece in [*splitter.finditer(work), None]:
            stop = piece.start() if piece else len(work)
            name = _clean_listed_name(work, at, stop)
            if name:
                yield start + name[0], start + name[1], "CLUSTER"
            at = piece.end() if piece else len(work)


def _clean_listed_name(work: str, begin: int, end: int) -> tuple[int, int] | None:
    words = [m for m in re.finditer(r"\S+", work[begin:end])]
    while words and not words[0].group()[0].isupper():  # "coordinated by Vegepolys"
        words.pop(0)
    if not words:
        return None
    start, stop = begin + words[0].start(), begin + words[-1].end()
    role = _ROLE_SUFFIX.search(work[start:stop])
    if role:
        stop = start + role.start()
    name = work[start:stop].rstrip(" .,")
    tokens = name.split()
    if len(tokens) > 1 and tokens[-1] in ("cluster", "clusters") and tokens[-2][0].isupper():
        name = name[: name.rindex(" ")]  # "Framtidens Bioraffinaderi cluster": the name is before
        tokens = tokens[:-1]
    lowercase = [t for t in tokens if t[0].islower() and t not in _NAME_CONNECTORS]
    if not tokens or len(tokens) > 8 or len(lowercase) > 3:
        return None
    return start, start + len(name)


def shape_matches(text: str) -> Iterator[tuple[int, int, str]]:
    """Character spans of call identifiers, programme names and cluster-name shapes."""
    for match in CALL_IDENTIFIER.finditer(text):
        yield match.start(), match.end(), "PROGRAMME"
    for match in PROGRAMME_NAMES.finditer(text):
        yield match.start(), match.end(), "PROGRAMME"
    for match in CLUSTER_SHAPES.finditer(text):
        trimmed = _trim(text, match.start(), match.end())
        if trimmed:
            yield trimmed[0], trimmed[1], "CLUSTER"
    yield from partner_list_matches(text)


class NameFinder:
    """One spaCy component: learned phrases (PhraseMatcher on exact text) plus name shapes.

    Overlaps go to the longer span; on equal spans a learned phrase wins. ``doc.ents`` is set
    only when something is found, because reading or setting it walks every token, which
    was a third of the tagging time on texts with no names (most of a funding database).
    """

    def __init__(self, nlp: Language, name: str = NAMES_COMPONENT):
        self.name = name
        self.vocab = nlp.vocab
        self.patterns: list[dict[str, str]] = []
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._tokenizer = nlp.tokenizer
        self._prefilter: re.Pattern[str] | None = None

    def add_patterns(self, patterns: Iterable[dict[str, str]]) -> None:
        for pattern in patterns:
            self.patterns.append(dict(pattern))
            self.matcher.add(pattern["label"], [self._tokenizer(pattern["pattern"])])
        # The PhraseMatcher matches a phrase's tokens consecutively, and consecutive tokens are
        # separated in the text by one space or by nothing ("Plásticos-AVEP" is three tokens, as
        # is "Plásticos - AVEP"). So a text it matches contains the phrase's tokens in order with
        # only white space, or none, between them: this regex, a superset test that needs no
        # tokenizing. (Splitting the phrase on its own spaces instead missed other spellings.)
        phrases = sorted({p["pattern"] for p in self.patterns}, key=len, reverse=True)
        self._prefilter = (
            re.compile("|".join(r"\s*".join(re.escape(token.text) for token in self._tokenizer(phrase)) for phrase in phrases))
            if phrases else None
        )

    def may_find_names(self, text: str) -> bool:
        """False only when this component would certainly find nothing in ``text``."""
        if self._prefilter is not None and self._prefilter.search(text):
            return True
        return any(pattern.search(text) for pattern in SHAPE_PATTERNS)

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)]
        for start, end, label in shape_matches(doc.text):
            span = doc.char_span(start, end, label=label, alignment_mode="contract")
            if span is not None and len(span):
                spans.append(span)
        if spans:
            doc.ents = filter_spans(spans)
            doc.user_data[NAMES_COMPONENT] = [_entity(span) for span in doc.ents]
        else:
            doc.user_data[NAMES_COMPONENT] = []
        return doc


@Language.factory(NAMES_COMPONENT)
def make_name_finder(nlp: Language, name: str) -> NameFinder:
    return NameFinder(nlp, name)


def blank_pipeline() -> Language:
    """``spacy.blank("en")`` whose tokenizer also splits "AVEP(Spain" at the bracket."""
    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes) + [r"(?<=[A-Za-z])\((?=[A-Za-z])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def learned_patterns(records: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Phrase patterns from the records' annotated spans (one per distinct text and label)."""
    seen = set()
    for record in records:
        for entity in record.get("entities") or []:
            phrase = record["text"][entity["start"] : entity["end"]]
            seen.add((entity["label"], phrase))
    return [{"label": label, "pattern": phrase} for label, phrase in sorted(seen)]


def build_entity_pipeline(records: Iterable[dict[str, Any]]) -> Language:
    """A pipeline whose learned phrases come only from ``records`` (the training fold)."""
    nlp = blank_pipeline()
    finder = nlp.add_pipe(NAMES_COMPONENT)
    finder.add_patterns(learned_patterns(records))  # type: ignore[attr-defined]
    return nlp


def pipeline_patterns(nlp: Language) -> list[dict[str, str]]:
    """The learned phrase patterns of a pipeline: all a saved entity pipeline needs."""
    return list(nlp.get_pipe(NAMES_COMPONENT).patterns)  # type: ignore[attr-defined]


def save_entity_patterns(nlp: Language, path: Path) -> None:
    """One JSON object per line ({"label", "pattern"}): plain data, loading runs no code."""
    lines = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in pipeline_patterns(nlp)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def load_entity_patterns(path: Path) -> Language:
    """Rebuild the pipeline from ``blank_pipeline`` and the saved patterns; raise ValueError
    on a line that is not a {"label", "pattern"} object."""
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        pattern = json.loads(line)
        if not (isinstance(pattern, dict) and isinstance(pattern.get("label"), str) and isinstance(pattern.get("pattern"), str)):
            raise ValueError(f"{path.name} line {number} is not a {{'label', 'pattern'}} object")
        patterns.append({"label": pattern["label"], "pattern": pattern["pattern"]})
    nlp = blank_pipeline()
    nlp.add_pipe(NAMES_COMPONENT).add_patterns(patterns)  # type: ignore[attr-defined]
    return nlp


def doc_entities(doc: Doc) -> list[dict[str, Any]]:
    found = doc.user_data.get(NAMES_COMPONENT)
    return list(found) if found is not None else [_entity(span) for span in doc.ents]


def _entity(span: Span) -> dict[str, Any]:
    return {"text": span.text, "label": span.label_, "start": span.start_char, "end": span.end_char}


# spaCy's tokenizer takes time quadratic in the length of a run without white space (prefixes
# and suffixes are peeled off one at a time): 2,000 commas take 0.9 s, 8,000 take 10 s, and a
# 200,000-character run would stall a batch for hours. Runs longer than this get a space every
# MAX_RUN characters before tokenizing (same length, so offsets still point into the text).
MAX_RUN = 200
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))


def tokenizable(text: str) -> str:
    """``text`` with every run of more than MAX_RUN non-space characters broken by a space every
    MAX_RUN characters; the same length, so character offsets are unchanged."""
    if not _LONG_RUN.search(text):
        return text

    def cut(match: re.Match[str]) -> str:
        run = match.group(0)
        return "".join(" " if (i + 1) % (MAX_RUN + 1) == 0 else ch for i, ch in enumerate(run))

    return _LONG_RUN.sub(cut, text)


def extract_entities(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> Iterator[list[dict[str, Any]]]:
    """Entities of each text, as plain dicts with character offsets into the input.

    Texts in which no learned phrase and no name shape can occur skip the spaCy pipeline
    (most rows of a funding database name no cluster or programme); the others run through
    it in full, so the result is the same as running every text.
    """
    finder = nlp.get_pipe(NAMES_COMPONENT) if NAMES_COMPONENT in nlp.pipe_names else None
    safe = [tokenizable(text) for text in texts]  # the prefilter sees what the pipeline sees
    candidates = [i for i, text in enumerate(safe) if finder is None or finder.may_find_names(text)]
    docs = nlp.pipe((safe[i] for i in candidates), batch_size=batch_size)
    found = dict(zip(candidates, (doc_entities(doc) for doc in docs)))
    for i in range(len(texts)):
        entities = found.get(i, [])
        if safe[i] is not texts[i]:  # names are quoted from the text as given
            entities = [{**e, "text": texts[i][e["start"] : e["end"]]} for e in entities]
        yield entities
