"""`csvnlp serve`: every route through FastAPI's test client, the JSON API against
`classify --json`, bad and oversized uploads, the safety rules (token, host, paths, CSRF) and
errors as pages."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from serve_support import EXAMPLE, NAMED_SECTIONS, SUBMISSION, client_for, csrf_of, make_app, small_corpus

SLUG = "tagged"


@pytest.fixture(scope="module")
def client(shipped_bundle, tmp_path_factory):
    corpus = small_corpus(tmp_path_factory.mktemp("corpus"))
    app = make_app(shipped_bundle, corpus)
    with client_for(app) as c:
        yield c


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


def highlighted_names(html: str, label: str) -> list[str]:
    """The names marked with ``label`` in the highlighted text (a name may span several
    segments when a driving term sits inside it)."""
    from html.parser import HTMLParser

    class Marks(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[bool] = []  # per open mark: is it a name of this label
            self.names: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "mark":
                self.stack.append(f"ent-{label}" in (dict(attrs).get("class") or "").split())
                if self.stack[-1]:
                    self.names.append("")

        def handle_endtag(self, tag):
            if tag == "mark" and self.stack:
                self.stack.pop()

        def handle_data(self, data):
            if any(self.stack):
                self.names[-1] += data

    parser = Marks()
    parser.feed(html.split('id="highlighted">', 1)[1].split("</div>", 1)[0])
    return parser.names


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text


# ---------------------------------------------------------------------------- pages


def test_start_page_links_every_page(client):
    page = client.get("/")
    assert page.status_code == 200
    for link in ("/classify", f"/data/{SLUG}", f"/data/{SLUG}/queue", "/api/docs"):
        assert f'href="{link}"' in page.text
    assert "csvnlp_csrf" in page.cookies


def test_static_assets_come_from_the_app(client):
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/favicon.svg").headers["content-type"] == "image/svg+xml"
    for page in ("/", "/classify", f"/data/{SLUG}", "/api/docs"):
        html = client.get(page).text
        assert not re.search(r"""(src|href)=["']https?://""", html), f"{page} loads something from another site"


def test_classify_page_shows_levels_terms_and_names(client):
    empty = client.get("/classify")
    assert empty.status_code == 200 and 'name="file"' in empty.text
    page = client.post("/classify", data={"text": SUBMISSION, "csrf": csrf_of(client)})
    assert page.status_code == 200
    assert "Status: <b>ok</b>" in page.text and "cluster_development" in page.text
    assert "At least one level passed its threshold" in page.text  # what the status means
    assert highlighted_names(page.text, "CLUSTER") == ["Basque Food Cluster"]
    assert highlighted_names(page.text, "PROGRAMME") == ["INNOSUP-01-2018-2020"]
    assert re.search(r'<mark class="lvl lvl-cluster_development ?"[^>]*>SMEs</mark>', page.text)  # a driving term, in place
    assert page.text.count('class="fill fill-') == 3  # one probability bar per level


def test_classify_page_reads_a_pdf_with_its_sections(client, tmp_path):
    from document_factory import make_proposal_pdf

    pdf = make_proposal_pdf(tmp_path / "proposal.pdf", sections=NAMED_SECTIONS)
    with pdf.open("rb") as handle:
        page = client.post("/classify", data={"csrf": csrf_of(client)}, files={"file": ("proposal.pdf", handle, "application/pdf")})
    assert page.status_code == 200
    assert "Basque Food Cluster" in highlighted_names(page.text, "CLUSTER")
    assert "INNOSUP-01-2018-2020" in highlighted_names(page.text, "PROGRAMME")
    assert "Sections that drove the levels" in page.text and "Abstract" in page.text
    assert "Read from a PDF" in page.text


def test_classify_page_reads_a_docx(client, tmp_path):
    from document_factory import make_proposal_docx

    docx = make_proposal_docx(tmp_path / "proposal.docx", sections=NAMED_SECTIONS)
    page = client.post("/classify", data={"csrf": csrf_of(client)},
                       files={"file": ("proposal.docx", docx.read_bytes(), "application/octet-stream")})
    assert page.status_code == 200 and "Read from a DOCX" in page.text
    assert "Basque Food Cluster" in highlighted_names(page.text, "CLUSTER")


def test_a_text_in_another_language_says_why_no_level(client):
    text = ("Le pôle de compétitivité accompagne les petites et moyennes entreprises de la région dans la transition "
            "énergétique, avec des chèques innovation et des formations pour les salariés des entreprises membres.")
    page = client.post("/classify", data={"text": text, "csrf": csrf_of(client)})
    assert page.status_code == 200 and "Status: <b>unsupported_language</b>" in page.text
    assert "a language the model was not trained on" in page.text and "'fr'" in html.unescape(page.text)
    assert 'class="fill fill-' not in page.text  # no level, so no bars


def test_api_classify_returns_what_classify_json_prints(client, cli, tmp_path):
    from document_factory import make_proposal_pdf

    pdf = make_proposal_pdf(tmp_path / "proposal.pdf", sections=NAMED_SECTIONS)
    expected = json.loads(cli("classify", "--file", str(pdf), "--json").stdout)
    with pdf.open("rb") as handle:
        answer = client.post("/api/classify", files={"file": ("proposal.pdf", handle, "application/pdf")})
    assert answer.status_code == 200
    got = answer.json()
    assert got.pop("source") == "proposal.pdf" and expected.pop("source") == str(pdf)
    assert got == expected
    text_expected = json.loads(cli("classify", SUBMISSION, "--json").stdout)
    text_got = client.post("/api/classify", data={"text": SUBMISSION}).json()
    assert {k: v for k, v in text_got.items() if k != "source"} == {k: v for k, v in text_expected.items() if k != "source"}


def test_api_is_documented_by_openapi(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/classify"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClassifyResult")
    assert {"levels", "predicted", "status", "entities", "explanation"} <= set(spec["components"]["schemas"]["ClassifyResult"]["properties"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/classify" in docs.text and "ClassifyResult" in docs.text
    assert "<script" not in docs.text  # no CDN-hosted Swagger UI


def test_explore_filters_count_what_pandas_counts(client, example):
    page = client.get(f"/data/{SLUG}")
    assert page.status_code == 200 and f'<b id="matching">{len(example):,}</b>' in page.text
    cases = {
        "level=cluster_development": example["predicted"].str.contains("cluster_development"),
        "level=none": example["predicted"] == "",
        "status=uncertain": example["status"] == "uncertain",
        "programme=esif": example["programmes"].str.lower().str.contains("esif"),
        "column=Type+of+fund&value=ESF": example["Type of fund"] == "ESF",
        "q=innovation": example["Summary of project (max 100 words)"].str.lower().str.contains("innovation"),
        "q=SMEs+innovation": example["Summary of project (max 100 words)"].str.lower().str.contains("smes")
        & example["Summary of project (max 100 words)"].str.lower().str.contains("innovation"),
        "q=%22business+support%22": example["Summary of project (max 100 words)"].str.lower().str.contains("business support"),
        "level=cluster_development&column=Type+of+fund&value=ERDF": example["predicted"].str.contains("cluster_development") & (example["Type of fund"] == "ERDF"),
    }
    for query, mask in cases.items():
        text = client.get(f"/data/{SLUG}?{query}").text
        assert f'<b id="matching">{int(mask.sum()):,}</b>' in text, query
    assert int(cases["level=cluster_development"].sum()) > 0 and int(cases["q=innovation"].sum()) > 0
    cluster_rows = example[example["clusters"] != ""]
    if len(cluster_rows):
        name = cluster_rows["clusters"].iloc[0].split(";")[0]
        expected = int(example["clusters"].str.lower().str.contains(name.lower(), regex=False).sum())
        assert f'<b id="matching">{expected:,}</b>' in client.get(f"/data/{SLUG}", params={"cluster": name}).text


def chart_shares(html: str) -> list[tuple[str, float]]:
    return [(s, float(v)) for s, v in re.findall(r'data-series="(\w+)" data-share="([0-9.]+)"', html)]


def test_chart_shows_the_share_of_each_level_by_group(client, example):
    html = client.get(f"/data/{SLUG}", params={"group": "Type of fund"}).text
    erdf = example[example["Type of fund"] == "ERDF"]
    shares = dict(chart_shares(html)[:4])  # the largest group comes first: ERDF
    assert "<text x=\"0\" y=\"38.0\" class=\"group-label\">ERDF</text>" in html
    assert shares["cluster_development"] == pytest.approx(erdf["predicted"].str.contains("cluster_development").mean(), abs=1e-4)
    assert shares["uncertain"] == pytest.approx((erdf["status"] == "uncertain").mean(), abs=1e-4)
    filtered = client.get(f"/data/{SLUG}", params={"group": "Type of fund", "level": "cluster_development"}).text
    assert chart_shares(filtered) != chart_shares(html)
    assert dict(chart_shares(filtered)[:4])["cluster_development"] == 1.0


def test_amount_column_is_summed_per_level(client, example):
    column = "ERDF/ESF investment £m"
    html = client.get(f"/data/{SLUG}", params={"amount": column}).text
    values = pd.to_numeric(example[column].str.replace(",", ""), errors="coerce")
    expected = values[example["predicted"].str.contains("cluster_development")].sum()
    assert f'{expected:,.0f}' in html and "Sum of <code>ERDF/ESF investment £m</code>" in html


def test_download_holds_exactly_the_filtered_rows(client, example, tmp_path):
    answer = client.get(f"/data/{SLUG}/download.csv", params={"level": "cluster_development", "column": "Type of fund", "value": "ERDF"})
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    (tmp_path / "got.csv").write_bytes(answer.content)
    got = pd.read_csv(tmp_path / "got.csv", dtype=str, keep_default_na=False)
    mask = example["predicted"].str.contains("cluster_development") & (example["Type of fund"] == "ERDF")
    assert list(got.columns) == list(example.columns)
    assert got["id"].tolist() == example.loc[mask, "id"].tolist()
    empty = client.get(f"/data/{SLUG}/download.csv", params={"q": "no such words anywhere"})
    assert empty.text.strip() == ",".join(f'"{c}"' for c in example.columns)


def test_explore_pages_through_the_rows(client, example):
    first = client.get(f"/data/{SLUG}").text
    second = client.get(f"/data/{SLUG}", params={"page": 2}).text
    assert 'href="/data/tagged/rows/0"' in first and 'href="/data/tagged/rows/50"' in second
    assert "page 2 of 5" in second


def test_record_page_highlights_its_text(client, example):
    row = int(example.index[example["programmes"] != ""][0])
    page = client.get(f"/data/{SLUG}/rows/{row}")
    assert page.status_code == 200
    assert f"id {example['id'][row]}" in page.text
    first_programme = example["programmes"][row].split(";")[0]
    assert first_programme in highlighted_names(page.text, "PROGRAMME")
    assert 'id="review-form"' in page.text


def test_queue_orders_records_as_suggest_does(client, example, shipped_bundle):
    from csvnlp.annotation import uncertainty
    from csvnlp.levels import LEVEL_KEYS

    thresholds = dict(zip(LEVEL_KEYS, (float(t) for t in shipped_bundle.level_model.thresholds_)))
    queues = {key: [] for key in LEVEL_KEYS}
    for position, row in example.iterrows():
        if row["status"] not in ("ok", "uncertain"):
            continue
        margin, level = uncertainty({k: float(row[f"p_{k}"]) for k in LEVEL_KEYS}, thresholds)
        queues[level].append((margin, position))
    for key in LEVEL_KEYS:
        queues[key].sort()
    expected = []  # suggest's round-robin over the closest level, most uncertain first
    while any(queues.values()) and len(expected) < 50:
        for key in LEVEL_KEYS:
            if queues[key] and len(expected) < 50:
                expected.append(queues[key].pop(0)[1])
    html = client.get(f"/data/{SLUG}/queue").text
    shown = [int(r) for r in re.findall(r'<td><a href="/data/tagged/rows/(\d+)\?queue=1">', html)]
    assert shown == expected


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name, data, says", [
    ("empty.txt", b"", "empty text"),
    ("blank.txt", b"   \n\t ", "whitespace-only text"),
    ("binary.txt", b"\x00\x01\x02PK" * 50, "binary data"),
    ("latin1.txt", "Coopération régionale des clusters".encode("latin-1"), "not UTF-8"),
    ("fake.docx", b"PK\x03\x04garbage", "corrupt or truncated ZIP/DOCX"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<<", "PDF"),
])
def test_bad_uploads_get_the_clis_message_as_a_page(client, cli, tmp_path, name, data, says):
    page = client.post("/classify", data={"csrf": csrf_of(client)}, files={"file": (name, data, "application/octet-stream")})
    assert page.status_code == 400
    assert says in page.text
    no_traceback(page.text)
    (tmp_path / name).write_bytes(data)
    cli_message = cli("classify", "--file", str(tmp_path / name)).stderr.strip().removeprefix("csvnlp: error: ")
    assert cli_message.replace(str(tmp_path / name), name) in html.unescape(page.text)
    api = client.post("/api/classify", files={"file": (name, data, "application/octet-stream")})
    assert api.status_code == 400 and says in api.json()["error"]


def test_scanned_and_protected_pdfs_say_what_to_do(client, tmp_path):
    from document_factory import make_encrypted_pdf, make_scanned_pdf

    for path, says in ((make_scanned_pdf(tmp_path / "scan.pdf"), "OCR"), (make_encrypted_pdf(tmp_path / "locked.pdf"), "password")):
        page = client.post("/api/classify", files={"file": (path.name, path.read_bytes(), "application/pdf")})
        assert page.status_code == 400 and says in page.json()["error"]


def test_nothing_to_classify_is_a_clear_error(client):
    page = client.post("/classify", data={"text": "", "csrf": csrf_of(client)})
    assert page.status_code == 400 and "nothing to classify" in page.text
    assert client.post("/api/classify").status_code == 400


def test_oversized_uploads_are_refused_before_and_while_reading(shipped_bundle, tmp_path):
    app = make_app(shipped_bundle, small_corpus(tmp_path / "corpus"), max_upload_bytes=100_000)
    with client_for(app) as small:
        token = csrf_of(small)
        # over the request limit (upload limit + form overhead): refused from Content-Length alone
        big = small.post("/classify", data={"csrf": token}, files={"file": ("big.txt", b"a " * 200_000, "text/plain")})
        assert big.status_code == 413 and "over the 98 KiB limit for one document" in big.text
        no_traceback(big.text)
        # under the request limit but over the document limit: the CLI's message
        over = small.post("/classify", data={"csrf": token}, files={"file": ("over.txt", b"a " * 60_000, "text/plain")})
        assert over.status_code == 400 and "limit for one document; split it" in over.text  # documents.py's message

        def chunks():  # no Content-Length: the body is counted as it arrives
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\n'
            for _ in range(40):
                yield b"a " * 5_000
            yield b"\r\n--b--\r\n"

        streamed = small.post("/api/classify", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert streamed.status_code == 413 and "limit" in streamed.json()["error"]
        assert small.get("/").status_code == 200  # the server carries on


def test_default_upload_limit_is_the_clis(client):
    from csvnlp.documents import MAX_DOCUMENT_BYTES

    page = client.post("/api/classify", files={"file": ("big.txt", b"a" * (MAX_DOCUMENT_BYTES + 100 * 1024), "text/plain")})
    assert page.status_code == 413 and "20 MiB" in page.json()["error"]


# ---------------------------------------------------------------------------- safety


def test_other_addresses_need_a_token(shipped_bundle, tmp_path, cli, monkeypatch):
    from csvnlp.serve.config import ServeConfigError

    monkeypatch.delenv("CSVNLP_SERVE_TOKEN", raising=False)
    with pytest.raises(ServeConfigError, match="--token"):
        make_app(shipped_bundle, tmp_path, host="0.0.0.0")
    with pytest.raises(ServeConfigError, match="at least 16"):
        make_app(shipped_bundle, tmp_path, host="0.0.0.0", token="short")
    result = cli("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2 and "--token" in result.stderr
    missing = cli("serve", "--data", str(tmp_path / "no-such.csv"))
    assert missing.exit_code == 3 and "no such file" in missing.stderr
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = cli("serve", "--port", str(taken.getsockname()[1]))
    assert busy.exit_code == 2 and "choose another --port" in busy.stderr


def test_every_request_needs_the_token(shipped_bundle, tmp_path, monkeypatch):
    token = "a-long-enough-test-token-1234"
    monkeypatch.setenv("CSVNLP_SERVE_TOKEN", token)
    app = make_app(shipped_bundle, small_corpus(tmp_path / "corpus"), host="0.0.0.0")
    with client_for(app, base_url="http://10.1.2.3:8000") as c:
        for path in ("/", "/classify", f"/data/{SLUG}", "/static/style.css", "/openapi.json", "/no-such-page"):
            missing = c.get(path)
            assert missing.status_code == 401 and "access token" in missing.text, path
        assert c.post("/api/classify", data={"text": SUBMISSION}).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
        assert c.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert c.post("/api/classify", data={"text": SUBMISSION}, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        link = c.get(f"/data/{SLUG}?level=none&token={token}", follow_redirects=False)
        assert link.status_code == 303 and link.headers["location"] == f"/data/{SLUG}?level=none"  # the token leaves the URL
        assert c.get(f"/data/{SLUG}").status_code == 200  # the cookie set by the link


def test_loopback_server_answers_only_for_loopback_names(client):
    assert client.get("/", headers={"host": "evil.example:8000"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


@pytest.mark.parametrize("path", [
    "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/app.py",
    "/static/app.py",
    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/data/..%2f..%2fetc%2fpasswd",
    "/data/%2e%2e%2f%2e%2e%2fcorpus%2fcases.jsonl/download.csv",
    "/data/..%2fexamples%2fesif-england%2ftagged.csv",
    "/data/tagged/rows/..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
])
def test_no_request_path_reaches_the_filesystem(client, path):
    answer = client.get(path)
    assert answer.status_code in (400, 404)
    assert "root:" not in answer.text and "import " not in answer.text and "[build-system]" not in answer.text
    no_traceback(answer.text)


def test_security_headers_allow_only_own_assets(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------------- errors


def test_errors_are_pages(client):
    for path, status in (("/data/nope", 404), (f"/data/{SLUG}/rows/99999", 404), (f"/data/{SLUG}?level=bogus", 400),
                         (f"/data/{SLUG}?page=0", 400), (f"/data/{SLUG}?group=nope", 400), (f"/data/{SLUG}/rows/x", 400),
                         ("/api/nope", 404)):
        answer = client.get(path)
        assert answer.status_code == status, path
        no_traceback(answer.text)
        if not path.startswith("/api/"):
            assert answer.headers["content-type"].startswith("text/html") and "<h1>" in answer.text
    assert client.put("/classify").status_code == 405


def test_an_unexpected_error_is_a_page_without_a_traceback(shipped_bundle, tmp_path, monkeypatch):
    from csvnlp.serve.database import TaggedTable

    app = make_app(shipped_bundle, small_corpus(tmp_path / "corpus"))

    def broken(self, filters, group):
        raise RuntimeError("a bug with a secret path /home/x/.ssh")

    monkeypatch.setattr(TaggedTable, "shares", broken)
    with client_for(app, raise_server_exceptions=False) as c:
        answer = c.get(f"/data/{SLUG}")
    assert answer.status_code == 500 and "Unexpected error" in answer.text
    assert ".ssh" not in answer.text
    no_traceback(answer.text)


def test_a_file_that_is_not_a_tag_output_is_refused(shipped_bundle, tmp_path):
    from csvnlp.errors import InputError

    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a `csvnlp tag` output"):
        make_app(shipped_bundle, tmp_path, data=[other])


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_parquet_and_jsonl_outputs_read_like_csv(shipped_bundle, tmp_path, example, suffix):
    path = tmp_path / f"tagged{suffix}"
    frame = example.copy()
    for key in ("products_markets", "value_chain", "cluster_development"):
        frame[f"p_{key}"] = frame[f"p_{key}"].astype(float)
    frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_json(path, orient="records", lines=True, force_ascii=False)
    app = make_app(shipped_bundle, small_corpus(tmp_path / "corpus"), data=[path])
    with client_for(app) as c:
        html = c.get(f"/data/{SLUG}", params={"level": "cluster_development", "group": "Type of fund"}).text
        expected = int(example["predicted"].str.contains("cluster_development").sum())
        assert f'<b id="matching">{expected:,}</b>' in html
        assert c.get(f"/data/{SLUG}/rows/5").status_code == 200


def test_readme_serve_example_opens_the_shipped_data(cli, monkeypatch, tmp_path):
    """The README's `csvnlp serve` command, run from the repository root as documented; uvicorn
    is replaced by a client that fetches the pages the server would serve."""
    import shlex

    import uvicorn

    from conftest import ROOT
    from test_readme import readme_commands

    command = next(c for c in readme_commands() if c.startswith("csvnlp serve --data examples/"))
    seen = {}

    def fake_run(app, host, port, **options):
        seen["address"] = (host, port)
        with client_for(app) as c:
            seen["explore"] = c.get(f"/data/{SLUG}").text
            seen["classify"] = c.get("/classify").status_code

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.chdir(ROOT)
    result = cli(*shlex.split(command)[1:], "--corpus", str(small_corpus(tmp_path / "corpus")))
    assert result.exit_code == 0, result.stderr
    assert "open http://127.0.0.1:8000/" in result.stderr
    assert seen["address"] == ("127.0.0.1", 8000) and seen["classify"] == 200
    assert '<b id="matching">240</b>' in seen["explore"]


def test_markup_in_texts_and_tables_is_shown_not_run(client, shipped_bundle, tmp_path, example):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = client.post("/classify", data={"text": "Clusters coach SMEs in regional value chains. " + attack, "csrf": csrf_of(client)})
    assert page.status_code == 200 and "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    hostile = example.head(3).copy()
    hostile.loc[0, "Name of Project"] = attack
    hostile.loc[0, "Summary of project (max 100 words)"] = "SMEs and clusters build value chains. " + attack
    path = tmp_path / "hostile.csv"
    hostile.to_csv(path, index=False)
    app = make_app(shipped_bundle, small_corpus(tmp_path / "corpus"), data=[path])
    with client_for(app) as c:
        for url in ("/data/hostile", "/data/hostile/rows/0", "/data/hostile/queue"):
            html = c.get(url).text
            assert "<script>alert" not in html and "<img src=x" not in html, url
