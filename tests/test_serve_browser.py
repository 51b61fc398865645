"""`csvnlp serve` in a real browser: headless Chromium (Debian's chromium + chromium-driver)
driven by Selenium against the app served by uvicorn on a free port. It uploads a PDF and sees
the levels and the highlighted names, filters the tagged table by level and sees the chart
change, and saves a correction that lands in the corpus file.

Skips, saying why, where Chromium or its driver is not installed (`.ci/run` installs them).
With CSVNLP_SCREENSHOTS=DIR it saves a screenshot of each page there (docs/screenshots/ holds
the committed ones).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from serve_support import NAMED_SECTIONS, make_app, small_corpus

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver") or next((p for p in ("/usr/lib/chromium/chromedriver",) if os.path.exists(p)), None)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="no Chromium/chromedriver here: `apt-get install -y chromium chromium-driver` (as .ci/run does) to run the browser test"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(shipped_bundle, tmp_path_factory):
    import uvicorn

    corpus = small_corpus(tmp_path_factory.mktemp("browser") / "corpus")
    port = free_port()
    app = make_app(shipped_bundle, corpus, port=port)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", corpus
    server.should_exit = True
    thread.join(timeout=10)
    app.state.serve.close()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except Exception as exc:  # a browser that cannot start here is a skip with its reason, not a failure of csvnlp
        pytest.skip(f"Chromium is installed but would not start: {str(exc).splitlines()[0]}")
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


def screenshot(driver, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CSVNLP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    height = min(int(driver.execute_script("return document.documentElement.scrollHeight")), 2600)
    driver.set_window_size(1280, max(height, 700))
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def shares(driver) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    return [(r.get_attribute("data-series"), r.get_attribute("data-share")) for r in driver.find_elements(By.CSS_SELECTOR, "#chart rect[data-series]")]


def test_upload_a_pdf_and_see_levels_and_names(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    from document_factory import make_proposal_pdf

    url, _ = served
    pdf = make_proposal_pdf(tmp_path / "proposal.pdf", sections=NAMED_SECTIONS)
    browser.get(f"{url}/")
    screenshot(browser, "home", tmp_path)
    browser.get(f"{url}/classify")
    browser.find_element(By.ID, "file").send_keys(str(pdf))
    browser.find_element(By.ID, "classify-button").click()
    status = browser.find_element(By.ID, "status").text
    assert status.startswith("Status: ok") and "predicted:" in status
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.bars rect.fill")
    assert len(bars) == 3 and all(float(b.get_attribute("width")) > 0 for b in bars)
    highlighted = browser.find_element(By.ID, "highlighted")
    clusters = "".join(m.text for m in highlighted.find_elements(By.CSS_SELECTOR, "mark.ent-CLUSTER"))
    programmes = [m.text for m in highlighted.find_elements(By.CSS_SELECTOR, "mark.ent-PROGRAMME")]
    assert "Basque Food Cluster" in clusters and "INNOSUP-01-2018-2020" in programmes
    # the highlighting is visible: a CLUSTER name is drawn with an outline
    assert highlighted.find_element(By.CSS_SELECTOR, "mark.ent-CLUSTER").value_of_css_property("outline-style") == "solid"
    assert browser.find_elements(By.CSS_SELECTOR, "mark.lvl")  # terms that drove a level
    assert "Sections that drove the levels" in browser.page_source
    screenshot(browser, "classify", tmp_path)


def test_filter_by_level_and_see_the_chart_change(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, _ = served
    browser.get(f"{url}/data/tagged?group=Start+year&amount=ERDF%2FESF+investment+%C2%A3m")
    before, matching_before = shares(browser), browser.find_element(By.ID, "matching").text
    assert before and matching_before == "240"
    Select(browser.find_element(By.ID, "level")).select_by_value("cluster_development")
    browser.find_element(By.ID, "apply").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: "level=cluster_development" in d.current_url)  # a loaded machine is slow to navigate
    after = shares(browser)
    assert after != before
    assert dict(after[:4])["cluster_development"] == "1.0000"  # every row left has that level
    assert int(browser.find_element(By.ID, "matching").text) < 240
    assert "Sum of" in browser.find_element(By.ID, "amounts").text
    screenshot(browser, "explore", tmp_path)


def test_save_a_correction_from_the_queue(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, corpus = served
    browser.get(f"{url}/data/tagged/queue")
    screenshot(browser, "queue", tmp_path)
    browser.find_element(By.ID, "start").click()
    record_url = browser.current_url
    box = browser.find_element(By.ID, "level-value_chain")
    wanted = {"value_chain"} ^ {b.get_attribute("value") for b in browser.find_elements(By.CSS_SELECTOR, "input[name=levels]:checked")}
    box.click()
    if not wanted:  # unticking the only level would leave nothing to save: tick another
        browser.find_element(By.ID, "level-products_markets").click()
        wanted = {"products_markets"}
    browser.find_element(By.ID, "reviewer").send_keys("browser-test")
    screenshot(browser, "record", tmp_path)
    browser.find_element(By.ID, "save").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.current_url != record_url)
    saved = browser.find_element(By.ID, "saved").text
    assert "saved" in saved and browser.current_url != record_url  # on to the next record of the queue
    records = [json.loads(line) for line in (corpus / "extra" / "review-tagged.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1 and set(records[0]["levels"]) == wanted and records[0]["annotator"] == "browser-test"
    browser.get(f"{url}/api/docs")
    screenshot(browser, "api", tmp_path)
