"""The JSON API on a real server on 127.0.0.1: what it serves, detections as segloc detect gives them, CHR
scores with CAMs, and every bad request answered with a clear 4xx (or a one-line 500), never a traceback."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
from pathlib import Path

import cv2
import pytest
from PIL import Image

from segloc.detection.inference import detect, open_detector
from segloc.errors import SeglocError
from segloc.serve import api, find_sources, make_server
from segloc.serve.server import ViewerHandler, ViewerServer


def request(
    server: ViewerServer, method: str, path: str, body: bytes | None = None, content_type: str | None = "image/png"
) -> tuple[int, dict | bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": content_type} if content_type and body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(data) if is_json else data


def refused(
    server: ViewerServer,
    status: int,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = "image/png",
) -> str:
    """The error message of a request the server must refuse with ``status``."""
    got, payload = request(server, method, path, body, content_type)
    assert got == status, payload
    assert isinstance(payload, dict) and set(payload) == {"error"}
    assert "Traceback" not in payload["error"]
    return payload["error"]


def test_info_names_what_is_served(served: ViewerServer) -> None:
    status, info = request(served, "GET", "/api/info")
    assert status == 200
    assert [c["name"] for c in info["detector"]["categories"]] == ["Block", "Disc", "Wedge"]
    assert all(len(c["colour"]) == 3 for c in info["detector"]["categories"])
    assert info["detector"]["masks"] and info["detector"]["min_score"] == pytest.approx(0.05)
    assert info["chr"]["class_names"] == ["Gun", "Knife", "Wrench", "Pliers", "Scissors"]
    assert info["pairs"] == 0 and info["limits"] == {"max_bytes": 2_000_000, "max_pixels": 1_000_000}


def test_page_and_static_files(served: ViewerServer) -> None:
    status, page = request(served, "GET", "/")
    assert status == 200 and b'<input id="file" type="file"' in page
    for name in ("app.js", "style.css"):
        assert request(served, "GET", f"/static/{name}")[0] == 200
    refused(served, 404, "GET", "/static/../server.py")
    refused(served, 404, "GET", "/static/%2e%2e/server.py")
    refused(served, 404, "GET", "/api/pairs/0.png")


def test_detect_gives_segloc_detect_records(
    served: ViewerServer, scan_png: Path, random_detector_runs: dict[str, Path]
) -> None:
    status, result = request(served, "POST", "/api/detect?min_score=0.1", scan_png.read_bytes())
    assert status == 200 and (result["width"], result["height"]) == (200, 150)
    dets = result["detections"]
    assert dets and min(d["score"] for d in dets) >= 0.1
    assert {"bbox", "score", "category_id", "category", "segmentation"} <= set(dets[0])
    assert dets[0]["segmentation"]["size"] == [150, 200]
    rgb = cv2.cvtColor(cv2.imread(str(scan_png)), cv2.COLOR_BGR2RGB)
    expected = detect(open_detector(random_detector_runs["cascade"]), [rgb], 0.1)[0]
    assert [d["category"] for d in dets] == [d["category"] for d in expected]
    assert [d["score"] for d in dets] == pytest.approx([d["score"] for d in expected], abs=1e-5)
    default = request(served, "POST", "/api/detect", scan_png.read_bytes())[1]["detections"]
    assert len(default) >= len(dets) and min(d["score"] for d in default) >= 0.05


def test_classify_gives_class_scores_and_cam_overlays(served: ViewerServer, scan_png: Path) -> None:
    status, result = request(served, "POST", "/api/classify", scan_png.read_bytes())
    assert status == 200 and len(result["scores"]) == 5 and all(0 <= s <= 1 for s in result["scores"])
    cam = result["cams"]["Knife"]
    assert cam.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(cam.split(",", 1)[1]))).size == (200, 150)


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bad_uploads_get_a_clear_4xx(served: ViewerServer, scan_png: Path) -> None:
    assert "not an image" in refused(served, 415, "POST", "/api/detect", b"hello, not a scan")
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    assert "GIF images are not accepted" in refused(served, 415, "POST", "/api/detect", gif.getvalue())
    assert "limit is 2000000 bytes" in refused(served, 413, "POST", "/api/detect", b"\0" * 2_000_001)
    assert "limit is 1000000 pixels" in refused(served, 413, "POST", "/api/detect", _png(1100, 1000))
    truncated = scan_png.read_bytes()[:300]
    assert "truncated or corrupt" in refused(served, 422, "POST", "/api/detect", truncated)
    assert "empty upload" in refused(served, 400, "POST", "/api/detect", b"")
    assert "text/plain is not accepted" in refused(served, 415, "POST", "/api/detect", b"x", "text/plain")
    assert "is not a number" in refused(served, 400, "POST", "/api/detect?min_score=high", scan_png.read_bytes())
    assert "outside [0, 1]" in refused(served, 400, "POST", "/api/detect?min_score=2", scan_png.read_bytes())
    assert "no such endpoint" in refused(served, 404, "POST", "/api/train", scan_png.read_bytes())


def test_a_request_without_content_length_is_refused(served: ViewerServer) -> None:
    host, port = served.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /api/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n\r\n")
        reply = sock.makefile("rb").read().decode()
    assert reply.startswith("HTTP/1.0 411") and "Content-Length is required" in reply
    assert "Traceback" not in reply


def test_a_stalled_upload_is_closed_after_the_idle_timeout(
    served: ViewerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ViewerHandler, "timeout", 0.5)
    host, port = served.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /api/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n")
        sock.sendall(b"\x89PNG")  # then nothing more: the server gives up on it instead of holding a thread
        assert sock.makefile("rb").read() == b""


def test_an_unexpected_failure_is_a_500_without_traceback(
    served: ViewerServer, scan_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> dict:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "detections", broken)
    message = refused(served, 500, "POST", "/api/detect", scan_png.read_bytes())
    assert "secret" not in message and "internal error" in message


def test_binds_to_localhost_by_default() -> None:
    from segloc.serve.server import DEFAULT_HOST

    assert DEFAULT_HOST == "127.0.0.1"
    server = make_server(api.Sources(gallery=[b"png"]), port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_serving_writes_no_file(
    serving,
    random_detector_runs: dict[str, Path],
    random_chr_run: Path,
    scan_png: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(random_detector_runs["mask_rcnn"].rglob("*"))
    server = serving(find_sources(random_detector_runs["mask_rcnn"], random_chr_run))
    for endpoint in ("/api/detect", "/api/classify"):
        assert request(server, "POST", endpoint, scan_png.read_bytes())[0] == 200
    assert request(server, "POST", "/api/detect", b"junk")[0] == 415
    assert list(work.iterdir()) == [] and sorted(random_detector_runs["mask_rcnn"].rglob("*")) == before


def test_sources_refuse_a_folder_with_nothing_to_show(tmp_path: Path) -> None:
    with pytest.raises(SeglocError, match="no such run folder or model file"):
        find_sources(tmp_path / "missing")
    (tmp_path / "experiment.yaml").write_text("name: empty\n")
    with pytest.raises(SeglocError, match="holds no fine-tuned detector, CHR run or pretraining run"):
        find_sources(tmp_path)
