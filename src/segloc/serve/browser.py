"""A headless Chromium driven through chromedriver's W3C WebDriver HTTP API, with the standard library only.

Used by the viewer's browser tests and to take the README's screenshot of the page:

    python -m segloc.serve.browser http://127.0.0.1:8000/ --upload scan.png --score 0.3 --out viewer.png
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
KEYS = {"Home": "\ue011", "End": "\ue010", "ArrowLeft": "\ue012", "ArrowRight": "\ue014"}


def find_browser() -> tuple[str, str] | None:
    """(Chromium, chromedriver) executables on PATH, or None when either is missing."""
    chromium = next((path for name in CHROMIUMS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One headless Chromium window; a context manager that ends the session and chromedriver on exit."""

    def __init__(self, width: int = 1280, height: int = 1000, timeout: float = 30.0) -> None:
        found = find_browser()
        if found is None:
            raise RuntimeError("Chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")
        chromium, driver = found
        self.timeout = timeout
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.session = ""
        try:
            self._wait_for_driver()
            args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--window-size={width},{height}"]
            caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                     "goog:chromeOptions": {"binary": chromium, "args": args}}}}
            self.session = self._call("POST", "/session", caps, prefix=False)["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status", prefix=False).get("ready"):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError("chromedriver did not start")

    def _call(self, method: str, path: str, body: dict | None = None, prefix: bool = True):
        url = self.base + (f"/session/{self.session}" if prefix else "") + path
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"WebDriver {method} {path}: {exc.read().decode(errors='replace')[:500]}") from None

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        """The element reference of the first element matching ``css``."""
        return self._call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def upload(self, css: str, file: Path | str) -> None:
        """Choose ``file`` in the file input ``css``, as a user picking it would."""
        self._call("POST", f"/element/{self.find(css)}/value", {"text": str(Path(file).resolve())})

    def press(self, css: str, key: str, times: int = 1) -> None:
        """Focus ``css`` and press ``key`` (Home, End, ArrowLeft, ArrowRight) ``times`` times."""
        self.run("document.querySelector(arguments[0]).focus();", css)
        strokes = [{"type": kind, "value": KEYS[key]} for _ in range(times) for kind in ("keyDown", "keyUp")]
        self._call("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": strokes}]})

    def run(self, script: str, *args: object):
        """The value of JavaScript ``script`` (a function body; ``arguments`` holds ``args``)."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, *args: object):
        """Poll ``script`` until it returns a truthy value; that value."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = self.run(script, *args)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"waited {self.timeout} s for: {script}")

    def screenshot(self, out: Path | str) -> Path:
        """Save the window as a PNG."""
        out = Path(out)
        out.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        return out

    def close(self) -> None:
        try:
            if self.session:
                self._call("DELETE", "")
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def show_scan(browser: Browser, url: str, scan: Path | str) -> int:
    """Open the viewer, upload ``scan`` and wait until it is drawn; the number of detections shown."""
    browser.open(url)
    browser.wait_for("return document.body.dataset.ready === 'true';")
    browser.upload("#file", scan)
    browser.wait_for("return document.getElementById('view').dataset.drawn !== undefined "
                     "|| !document.getElementById('error').hidden;")
    return int(browser.run("return document.querySelector('#detections tbody').rows.length;"))


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot of the segloc viewer with a scan uploaded.")
    parser.add_argument("url")
    parser.add_argument("--upload", type=Path, required=True, help="scan to upload")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--score", type=float, default=None, help="move the slider to this score first")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()
    with Browser(args.width, args.height) as browser:
        show_scan(browser, args.url, args.upload)
        if args.score is not None:
            browser.run("const s = document.getElementById('score'); s.value = arguments[0];"
                        "s.dispatchEvent(new Event('input'));", args.score)
        browser.screenshot(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
