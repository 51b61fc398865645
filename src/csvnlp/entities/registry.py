"""What csvnlp knows about programme and cluster names: the programme registry, the cluster
list, users' own gazetteers, and the linking of a found name to its canonical id.

The registry (``corpus/registry/programmes.jsonl``) holds one funding programme, instrument or
action a line: ``id``, ``name``, ``aliases`` (abbreviations and spellings), ``parent``, ``period``,
``funder``, ``kind``, ``source`` (a legal act or official page by its address, or a shared-data
file and column) and optionally ``call_prefixes`` (the first segment of its call and topic
identifiers). ``corpus/registry/call_prefixes.jsonl`` lists every prefix the shared call lists
use; a thematic prefix that FP7 and Horizon 2020 share ("ICT", "NMP") is resolved by the
identifier's year. The cluster list (``corpus/registry/clusters.jsonl``) has ``name``,
``label``, ``id`` and ``source`` per line, as does a user's ``--gazetteer`` file.

Names are knowledge, not patterns: a registry name is always found, whatever the training
annotations did with it (no learned stoplist switches it off; see ``component.NameFinder``).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from csvnlp.entities.rules import CALL_IDENTIFIER, ENTITY_LABELS
from csvnlp.errors import InputError

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
REGISTRY_FILE = CORPUS / "registry" / "programmes.jsonl"
CALL_PREFIX_FILE = CORPUS / "registry" / "call_prefixes.jsonl"
CLUSTER_FILE = CORPUS / "registry" / "clusters.jsonl"
# A thematic call prefix shared by the research framework programmes belongs to the one whose
# years the identifier's year falls in.
FRAMEWORK_YEARS = (("fp7", 2007, 2013), ("h2020", 2014, 2020), ("horizon-europe", 2021, 2027))
_YEAR = re.compile(r"(?<![0-9])(?:19|20)\d\d(?![0-9])")
# Words that may stand around a registry name without making it another programme's name.
GENERIC_WORDS = frozenset({
    "programme", "programmes", "program", "programs", "framework", "operational", "op", "the", "eu", "eu's", "european",
    "union", "union's", "research", "and", "innovation", "funding", "funded", "fund", "funds", "period", "plus", "new",
    "under", "of", "for", "by", "from", "2014-2020", "2021-2027", "2007-2013", "-", "–", "action", "actions",
})
_YEARS = re.compile(r"\(?(?:19|20)\d\d(?:[-–/](?:19|20)?\d\d)?\)?")
# Abbreviations no registry alias may hold (elsewhere they mean something else: "HE" is higher
# education in the English ERDF/ESF list) but which a rule finds where the context fixes them
# ("HE WP26-27": rules.HORIZON_EUROPE_WP).
CONTEXT_ABBREVIATIONS = {"he": "horizon-europe"}
_WRITTEN_OUT_PARTNERSHIP = re.compile(r"european partnership (?:on|for) (?:the )?(.+)")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


class GazetteerError(InputError):
    """A gazetteer file that cannot be read (missing, wrong format, bad rows)."""


def normalise(name: str) -> str:
    """The form names are compared in: Unicode-composed, case-folded, one space, plain quotes
    and dashes, without enclosing quotes or brackets."""
    text = unicodedata.normalize("NFC", name).translate(_QUOTES).casefold()
    text = " ".join(text.split())
    return text.strip("\"'()[] ")


@dataclass
class Registry:
    """Entries (by id), the alias index used for linking, and the call-prefix grammar."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # normalised name -> id
    prefixes: dict[str, str] = field(default_factory=dict)  # call prefix -> id
    framework_prefixes: set[str] = field(default_factory=set)  # prefixes resolved by year

    @classmethod
    def from_records(cls, entries: Iterable[dict[str, Any]], call_prefixes: Iterable[dict[str, Any]] = ()) -> "Registry":
        registry = cls()
        for entry in entries:
            registry.entries[entry["id"]] = entry
            for name in [entry["name"], *entry.get("aliases", [])]:
                registry.aliases.setdefault(normalise(name), entry["id"])
            for code in entry.get("call_prefixes", []):
                registry.prefixes.setdefault(code, entry["id"])
        for row in call_prefixes:
            if any("cordis_project_lists" in where for where in row.get("seen_in", {})):
                registry.framework_prefixes.add(row["prefix"])
        return registry

    def phrases(self) -> list[dict[str, str]]:
        """One phrase pattern per name and alias, labelled PROGRAMME, with its entry's id."""
        out = []
        for entry in self.entries.values():
            for name in dict.fromkeys([entry["name"], *entry.get("aliases", [])]):
                out.append({"label": "PROGRAMME", "pattern": name, "id": entry["id"], "source": "registry"})
        return out

    def link(self, text: str) -> str | None:
        """The canonical id ``text`` names: an exact name or alias; else, for a call or topic
        identifier, the programme of its prefix (by year for a framework-programme prefix); else
        the longest registry name inside it ("Horizon 2020 programme" -> h2020); else None."""
        key = normalise(text)
        if key in self.aliases:
            return self.aliases[key]
        if key in CONTEXT_ABBREVIATIONS:  # found only where the context says what it abbreviates
            return CONTEXT_ABBREVIATIONS[key]
        written_out = _WRITTEN_OUT_PARTNERSHIP.fullmatch(key)
        if written_out:  # "European Partnership on Batteries" is the "Batteries Partnership"
            for form in (f"{written_out.group(1)} partnership", written_out.group(1)):
                if form in self.aliases:
                    return self.aliases[form]
        if CALL_IDENTIFIER.fullmatch(text.strip()):
            return self.link_call(text.strip())
        best: tuple[int, str] | None = None
        padded = f" {key} "
        for alias, entry_id in self.aliases.items():
            if len(alias) > 2 and f" {alias} " in padded and (best is None or len(alias) > best[0]):
                best = (len(alias), entry_id)
        if best is None:
            return None
        # Only generic words around the registry name ("Horizon 2020 programme", "2014-2020 ERDF
        # Operational Programme"): a name of its own around it is another programme ("ERDF
        # Research and Development Grant scheme" is a national scheme the ERDF co-funds).
        alias = max((a for a, i in self.aliases.items() if i == best[1] and f" {a} " in padded), key=len)
        rest = padded.replace(f" {alias} ", " ", 1).split()
        return best[1] if all(word in GENERIC_WORDS or _YEARS.fullmatch(word) for word in rest) else None

    def link_call(self, identifier: str) -> str | None:
        head = re.split(r"[-_. ]", identifier, maxsplit=1)[0]
        parts = identifier.split("-")
        if head in ("HORIZON", "H2020") and len(parts) > 1 and parts[1] in self.prefixes:
            return self.prefixes[parts[1]]  # HORIZON-EIC-..., H2020-SMEINST-...: the named part
        if head in self.prefixes:
            return self.prefixes[head]
        if head in self.framework_prefixes:
            year = _YEAR.search(identifier)
            if year:
                for entry_id, start, end in FRAMEWORK_YEARS:
                    if start <= int(year.group()) <= end:
                        return entry_id
        return None

    def to_data(self) -> dict[str, Any]:
        return {"entries": list(self.entries.values()), "framework_prefixes": sorted(self.framework_prefixes)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Registry":
        registry = cls.from_records(data.get("entries", []))
        registry.framework_prefixes = set(data.get("framework_prefixes", []))
        return registry


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_registry(path: Path = REGISTRY_FILE, call_prefixes: Path = CALL_PREFIX_FILE) -> Registry:
    """The programme registry of the repository's corpus; where csvnlp is installed without its
    repository (a wheel), the copy inside the packaged model; else an empty one."""
    if not path.is_file():
        packaged = Path(__file__).resolve().parents[1] / "model_data" / "csvnlp-base" / "entities" / "csvnlp_names" / "registry.json"
        return Registry.from_data(json.loads(packaged.read_text(encoding="utf-8"))) if packaged.is_file() else Registry()
    return Registry.from_records(read_jsonl(path), read_jsonl(call_prefixes) if call_prefixes.is_file() else [])


def load_cluster_list(path: Path = CLUSTER_FILE) -> list[dict[str, str]]:
    """The shipped cluster list as phrase patterns (label CLUSTER, with id and source)."""
    return read_gazetteer(path) if path.is_file() else []


def read_gazetteer(path: Path) -> list[dict[str, str]]:
    """A user's gazetteer as phrase patterns: CSV with a header, or JSONL, each row ``name``,
    ``label`` (CLUSTER or PROGRAMME) and optionally ``id``; raise GazetteerError saying which row
    is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GazetteerError(f"cannot read the gazetteer {path}: {exc.strerror or exc}; pass a CSV or JSONL file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GazetteerError(f"the gazetteer {path} is not UTF-8 text; save it as UTF-8 CSV or JSONL") from None
    if "\x00" in text:
        raise GazetteerError(f"the gazetteer {path} is binary, not CSV or JSONL text")
    rows: list[tuple[int, Any]] = []
    if path.suffix.lower() in (".jsonl", ".json") or text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise GazetteerError(f"{path} line {number} is not JSON ({exc.msg}); each line is one object with name and label") from None
    else:
        reader = csv.DictReader(text.splitlines())
        missing = {"name", "label"} - set(reader.fieldnames or [])
        if missing:
            raise GazetteerError(f"{path} has no column {', '.join(sorted(missing))}; a gazetteer CSV has the header name,label[,id]")
        rows = [(number, row) for number, row in enumerate(reader, start=2)]
    patterns = []
    for number, row in rows:
        if not isinstance(row, dict):
            raise GazetteerError(f"{path} line {number} is not an object with name and label")
        name, label = str(row.get("name") or "").strip(), str(row.get("label") or "").strip().upper()
        if not name:
            raise GazetteerError(f"{path} line {number} has no name")
        if label not in ENTITY_LABELS:
            raise GazetteerError(f"{path} line {number}: label {row.get('label')!r} is not one of {', '.join(ENTITY_LABELS)}")
        pattern = {"label": label, "pattern": name, "source": str(row.get("source") or f"{path.name} line {number}")}
        if row.get("id"):
            pattern["id"] = str(row["id"]).strip()
        patterns.append(pattern)
    if not patterns:
        raise GazetteerError(f"the gazetteer {path} holds no names")
    return patterns
