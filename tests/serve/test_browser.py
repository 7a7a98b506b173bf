"""The viewer page in a real headless Chromium (Debian's chromium + chromium-driver): upload a scan, see the
detections drawn, move the score slider with the keyboard, see the CHR scores and CAM, and a clear
message for a file that is not a scan."""
from __future__ import annotations

from pathlib import Path

import pytest

from segloc.serve.browser import Browser, find_browser, show_scan
from segloc.serve.server import ViewerServer

pytestmark = pytest.mark.skipif(find_browser() is None, reason="no Chromium + chromedriver on PATH "
                                "(Debian: apt-get install chromium chromium-driver)")

DRAWN = "return Number(document.getElementById('view').dataset.drawn);"


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1100, height=900, timeout=60) as chromium:
        yield chromium


def test_upload_draws_detections_and_the_slider_filters_them(browser: Browser, served: ViewerServer,
                                                             scan_png: Path) -> None:
    show_scan(browser, served.url, scan_png)
    total = browser.run("return document.getElementById('shown').textContent;")
    count = int(total.split(" of ")[1].split()[0])
    assert count > 0
    browser.press("#score", "Home")
    assert browser.wait_for(f"return {DRAWN[7:-1]} === {count};")
    assert browser.run("return document.querySelector('#detections tbody').rows.length;") == count
    changed = browser.run("""
        const canvas = document.getElementById('view');
        const drawn = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let coloured = 0;
        for (let i = 0; i < drawn.length; i += 4) {
          if (Math.max(drawn[i], drawn[i + 1], drawn[i + 2]) - Math.min(drawn[i], drawn[i + 1], drawn[i + 2]) > 60
              && !(drawn[i] > 180 && drawn[i + 1] < 100)) coloured += 1;
        }
        return [canvas.width, canvas.height, coloured];""")
    assert changed[:2] == [200, 150] and changed[2] > 500  # boxes, labels and masks over the grey belt
    browser.press("#score", "End")
    assert browser.wait_for(f"return {DRAWN[7:-1]} === 0;")
    browser.press("#score", "ArrowLeft", times=100)
    value = float(browser.run("return document.getElementById('score').value;"))
    drawn = browser.run(DRAWN)
    assert value < 1.0 and 0 <= drawn <= count
    assert browser.run("return document.getElementById('score-value').textContent;") == f"{value:.2f}"


def test_chr_scores_and_cam_are_shown(browser: Browser, served: ViewerServer, scan_png: Path) -> None:
    show_scan(browser, served.url, scan_png)
    browser.wait_for("return !document.getElementById('chr').hidden;")
    assert browser.run("return document.querySelectorAll('#chr-scores button').length;") == 5
    assert browser.wait_for("const c = document.getElementById('cam'); return c.complete && c.naturalWidth;") == 200
    browser.run("document.querySelector('#chr-scores button[data-name=Pliers]').click();")
    assert browser.run("return document.getElementById('cam-caption').textContent;") == "CAM of Pliers"


def test_a_file_that_is_not_a_scan_gets_a_clear_message(browser: Browser, served: ViewerServer,
                                                         tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("these are notes, not a scan")
    browser.open(served.url)
    browser.wait_for("return document.body.dataset.ready === 'true';")
    browser.upload("#file", fake)
    message = browser.wait_for("const e = document.getElementById('error'); return !e.hidden && e.textContent;")
    assert message.startswith("notes.png: not an image segloc reads") and "Traceback" not in message


def test_an_experiment_folder_shows_the_pairs_gallery(browser: Browser, serving, experiment_folder: Path) -> None:
    from segloc.serve import find_sources

    server = serving(find_sources(experiment_folder))
    browser.open(server.url)
    browser.wait_for("return document.body.dataset.ready === 'true';")
    loaded = browser.wait_for("""
        const images = [...document.querySelectorAll('#gallery img')];
        return images.length && images.every((i) => i.complete && i.naturalWidth > 0) && images.length;""")
    assert loaded == 6 and not browser.run("return document.getElementById('pairs').hidden;")
    origins = browser.run("return document.getElementById('origins').textContent;")
    assert "detector:" in origins and "chr:" in origins and "pairs:" in origins
