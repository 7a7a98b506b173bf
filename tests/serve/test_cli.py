"""`segloc serve` as a user starts it: prints its URL, answers, stops on Ctrl-C (after answering the
requests in progress); a bad RUN is one line."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _segloc(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "segloc.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_prints_its_url_answers_and_stops(random_detector_runs: dict[str, Path]) -> None:
    process = _segloc("serve", str(random_detector_runs["cascade"]), "--port", "0", "--device", "cpu")
    try:
        line = process.stdout.readline()
        assert line.startswith("segloc viewer on http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[3]
        with urllib.request.urlopen(url + "api/info", timeout=30) as response:
            assert json.loads(response.read())["detector"]["masks"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "stopped" in out, out + err


def test_ctrl_c_answers_the_request_in_progress_then_stops(
    random_detector_runs: dict[str, Path], scan_png: Path
) -> None:
    process = _segloc("serve", str(random_detector_runs["cascade"]), "--port", "0", "--device", "cpu")
    try:
        url = urlsplit(process.stdout.readline().split()[3])
        body = scan_png.read_bytes()
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.putrequest("POST", "/api/detect")
        connection.putheader("Content-Type", "image/png")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body[: len(body) // 2])
        time.sleep(1.0)  # the server has taken the connection and waits for the rest of the upload
        process.send_signal(signal.SIGINT)
        connection.send(body[len(body) // 2 :])
        response = connection.getresponse()
        assert response.status == 200
        assert "detections" in json.loads(response.read())
    except BaseException:
        process.kill()
        raise
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "stopped" in out, out + err


def test_a_run_with_nothing_to_show_is_one_clear_line(tmp_path: Path) -> None:
    process = _segloc("serve", str(tmp_path / "nowhere"))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip() == f"error: {tmp_path / 'nowhere'}: no such run folder or model file"
