"""The page in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): upload a
synthetic-motion clip, see the model's top-1, the timeline image and the labelled video; upload a bad file,
see the server's message. The server listens on 127.0.0.1 only; a screenshot is kept as a test artefact."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1800",
]


def _artefacts(tmp_path: Path) -> Path:
    """Where screenshots go: ``$ACTION_TEST_ARTIFACTS`` (``.ci/run`` sets it) or the test's own folder."""
    folder = Path(os.environ.get("ACTION_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _executables() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(
            "Chromium could not be found (chromium and chromedriver on PATH): install Debian's chromium and "
            "chromium-driver (`apt-get install -y chromium chromium-driver`; .ci/run does it when missing)"
        )
    return browser, driver


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _executables()
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not look for downloads
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    session.set_page_load_timeout(60)
    try:
        yield session
    finally:
        session.quit()


def test_the_page_shows_top1_timeline_and_video_then_an_error(
    serve: Any, inferencer: Any, clip: Path, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server = serve()
    assert server.host == "127.0.0.1"
    wait = WebDriverWait(browser, 120)
    browser.get(server.url + "/")
    wait.until(ec.text_to_be_present_in_element((By.ID, "model-info"), "tsm_r18"))

    # Every form control has a label a screen reader announces.
    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('input, button, progress')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.textContent.trim()).map(e => e.id)"
    )
    assert unlabelled == []

    browser.find_element(By.ID, "file-input").send_keys(str(clip))
    wait.until(lambda d: d.find_element(By.ID, "results").is_displayed())
    wait.until(lambda d: d.find_element(By.ID, "timeline-plot").get_attribute("data-loaded") == "true")
    wait.until(lambda d: d.find_element(By.ID, "labelled-video").get_attribute("data-loaded") == "true")

    shown = browser.find_element(By.CSS_SELECTOR, "#top-k li:first-child .label").text
    assert shown == inferencer.predict_video(clip).label
    assert len(browser.find_elements(By.CSS_SELECTOR, "#top-k li")) == 4
    assert browser.find_element(By.ID, "result-name").text == clip.name
    plot_width = browser.execute_script(
        "const i = document.getElementById('timeline-plot'); return i.complete ? i.naturalWidth : 0"
    )
    assert plot_width > 0
    video = browser.execute_script(
        "const v = document.getElementById('labelled-video'); return [v.readyState, v.duration, v.videoWidth]"
    )
    assert video[0] >= 2 and video[1] == pytest.approx(4.0, abs=0.2) and video[2] > 0
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert not browser.find_element(By.ID, "progress-area").is_displayed()  # the work is over
    assert not browser.find_element(By.ID, "token-row").is_displayed()  # this server has no token

    screenshot = _artefacts(tmp_path) / "action-serve-page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    print(f"screenshot of the page: {screenshot}")

    bad = tmp_path / "notes.mp4"
    bad.write_text("these are my notes, not a video\n" * 20, encoding="utf-8")
    browser.find_element(By.ID, "file-input").send_keys(str(bad))
    wait.until(lambda d: d.find_element(By.ID, "error").is_displayed())
    message = browser.find_element(By.ID, "error").text
    assert "'notes.mp4' is not a video" in message and "choose a video file" in message
    assert not browser.find_element(By.ID, "results").is_displayed()
    error_shot = _artefacts(tmp_path) / "action-serve-error.png"
    browser.save_screenshot(str(error_shot))
    assert error_shot.stat().st_size > 0
    print(f"screenshot of the error: {error_shot}")

    logs = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    # The one expected console error is the bad upload's 415; anything else (a blocked load, a script
    # error) would mean the page is broken or reaches outside the server.
    assert [e for e in logs if "415" not in e["message"]] == []
