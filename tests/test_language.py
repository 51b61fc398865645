"""language.py: detection with the model shipped inside py3langid, and no level for a text the
model cannot read (issue 13)."""

from __future__ import annotations

import json

import pytest

from csvnlp.language import classify_in_supported_languages, detect_language, model_languages, supported_check

from conftest import SHIPPED_MODEL

SAMPLES = {
    "en": "The cluster helps small firms share suppliers and train workers in the region.",
    "de": "Das Cluster hilft kleinen Unternehmen, Lieferanten zu teilen und Fachkräfte in der Region auszubilden.",
    "fr": "Le pôle aide les petites entreprises à partager leurs fournisseurs et à former des salariés dans la région.",
    "pl": "Klaster pomaga małym firmom dzielić się dostawcami i szkolić pracowników w regionie.",
    "da": "Klyngen hjælper små virksomheder med at dele leverandører og uddanne medarbejdere i regionen.",
    "bg": "Клъстерът помага на малките фирми да споделят доставчици и да обучават работници в региона.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_language_detects_european_languages_from_the_packaged_model(code):
    guess = detect_language(SAMPLES[code])
    assert guess.code == code and guess.probability > 0.9


def test_language_too_few_letters_is_undetermined_and_still_classified():
    guess, ok = supported_check("12345 -- 2024", ("en",))
    assert guess.code == "und" and ok


def test_language_short_english_phrase_is_not_refused():
    # "Ceramic Crafts" scores low in every language: the English model gets it, as before
    assert supported_check("Ceramic Crafts", ("en",))[1]


def test_language_non_english_gets_unsupported_language_and_no_level(shipped_bundle):
    texts = [SAMPLES["en"], SAMPLES["de"], SAMPLES["pl"]]
    results = classify_in_supported_languages(shipped_bundle, texts, entities=False)
    assert [r["language"] for r in results] == ["en", "de", "pl"]
    assert results[0]["status"] in ("ok", "uncertain") and len(results[0]["levels"]) == 3
    for result in results[1:]:
        assert result["status"] == "unsupported_language"
        assert result["levels"] == [] and result["predicted"] == []
        assert result["language"] in result["message"]
    assert model_languages(shipped_bundle) == ("en",)


def test_classify_cli_reports_unsupported_language_with_its_code(cli):
    result = cli("classify", SAMPLES["fr"], "--json", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["status"] == "unsupported_language" and out["language"] == "fr" and out["predicted"] == []
    shown = cli("classify", SAMPLES["fr"], "--model", str(SHIPPED_MODEL)).stdout
    assert "unsupported_language" in shown and "(fr)" in shown


def test_language_of_a_long_text_is_read_beyond_its_first_lines():
    # an English title page over a Polish body: the sample includes the middle of the text
    text = "Cluster collaboration in agri-food value chains\n\n" + (SAMPLES["pl"] + " ") * 30
    guess, ok = supported_check(text, ("en",))
    assert guess.code == "pl" and not ok


def test_language_model_loads_from_the_package_without_network(monkeypatch):
    import socket

    from csvnlp import language

    def no_network(*args, **kwargs):
        raise AssertionError("the language detector tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    language._identifier.cache_clear()
    try:
        assert detect_language(SAMPLES["de"]).code == "de"
    finally:
        language._identifier.cache_clear()


def test_language_fast_path_takes_english_prose_only():
    from csvnlp.language import plainly_english

    assert plainly_english("The project will support SMEs in the region to develop new products and to access markets.")
    assert not plainly_english(SAMPLES["de"]) and not plainly_english(SAMPLES["pl"])
    assert not plainly_english("De gemeente is in de regio actief met het project voor de haven.")  # Dutch 'de', 'in', 'is'
    assert not plainly_english("POWIAT BEŁCHATOWSKI / POWIATOWY URZĄD PRACY W BEŁCHATOWIE to be")  # non-ASCII words
    assert not plainly_english("Ceramic Crafts")  # too short: the detector decides
