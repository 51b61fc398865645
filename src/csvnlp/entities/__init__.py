"""Finding CLUSTER and PROGRAMME names, and linking each programme to its canonical id.

One home per concern:

- ``rules``: character rules for names never seen (call identifiers, programme and cluster
  name shapes, "Cluster partners:" lists, organisation names under guideline 6.1);
- ``registry``: knowledge (the programme registry with its call-prefix grammar, the cluster
  list, users' gazetteers) and linking a name to its id;
- ``component``: the spaCy component ``csvnlp_names`` that combines them (and an optional
  trained ``ner``), its ``to_disk``/``from_disk``, and fast extraction over many texts;
- ``learning``: what is learned from annotated training records (phrases, rule reliability,
  programme tails, the recognizer policy); ``recognizer``: the trained spaCy ``ner``;
- ``persistence``: the pipeline saved with spaCy's ``config.cfg`` (``spacy.load`` restores it);
- ``scoring``: spaCy's ``Scorer``, exact and overlap figures, linking accuracy.
"""

from csvnlp.entities.component import (
    MAX_RUN,
    MERGE_POLICIES,
    NAMES_COMPONENT,
    NameFinder,
    add_gazetteer,
    blank_pipeline,
    doc_entities,
    extract_entities,
    merge_spans,
    tokenizable,
)
from csvnlp.entities.learning import (
    build_entity_pipeline,
    learn_programme_tails,
    learn_rule_reliability,
    learned_patterns,
    train_entity_pipeline,
)
from csvnlp.entities.persistence import ENTITY_DIR, load_entity_pipeline, save_entity_pipeline
from csvnlp.entities.registry import GazetteerError, Registry, load_cluster_list, load_registry, read_gazetteer
from csvnlp.entities.rules import (
    CALL_IDENTIFIER,
    CLUSTER_WORDS,
    COMPANY_FORMS,
    ENTITY_LABELS,
    LEGAL_FORM_WORDS,
    RULE_KINDS,
    is_name_like,
    organisation_cluster_span,
    partner_list_matches,
    shape_matches,
    shape_matches_by_kind,
)

__all__ = [
    "CALL_IDENTIFIER", "CLUSTER_WORDS", "COMPANY_FORMS", "ENTITY_DIR", "ENTITY_LABELS", "LEGAL_FORM_WORDS", "MAX_RUN",
    "MERGE_POLICIES", "NAMES_COMPONENT", "RULE_KINDS", "GazetteerError", "NameFinder", "Registry", "add_gazetteer", "blank_pipeline",
    "build_entity_pipeline", "doc_entities", "extract_entities", "is_name_like", "learn_programme_tails",
    "learn_rule_reliability", "learned_patterns", "load_cluster_list", "load_entity_pipeline", "load_registry",
    "merge_spans", "organisation_cluster_span", "partner_list_matches", "read_gazetteer", "save_entity_pipeline",
    "shape_matches", "shape_matches_by_kind", "tokenizable", "train_entity_pipeline",
]
