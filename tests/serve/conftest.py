"""A viewer server on 127.0.0.1 (any free port) over the random detector and CHR runs, and scans to upload."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from segloc.serve import find_sources, make_server
from segloc.serve.server import ViewerServer
from segloc.serve.sources import Sources


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Inference in the tests runs single-threaded (a shared 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def serving() -> Iterator[Callable[[Sources, dict], ViewerServer]]:
    """Start servers on 127.0.0.1 (any free port): ``serving(sources, **limits)``; all stopped at the end."""
    running: list[tuple[ViewerServer, threading.Thread]] = []

    def start(sources: Sources, **options: int) -> ViewerServer:
        server = make_server(sources, port=0, **options)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def served(serving, random_detector_runs: dict[str, Path], random_chr_run: Path) -> ViewerServer:
    """A running server with the random Cascade Mask R-CNN and CHR runs, 2 MB and 1 megapixel limits."""
    return serving(find_sources(random_detector_runs["cascade"], random_chr_run), max_bytes=2_000_000,
                   max_pixels=1_000_000)


@pytest.fixture(scope="module")
def scan_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200x150 drawn scan: a near-white belt with a blue block and an orange disc."""
    canvas = np.full((150, 200, 3), 240, dtype=np.uint8)
    canvas[40:100, 30:90] = (200, 70, 40)
    cv2.circle(canvas, (140, 80), 28, (40, 140, 230), -1)
    path = tmp_path_factory.mktemp("scans") / "scan.png"
    cv2.imwrite(str(path), canvas)
    return path


@pytest.fixture(scope="module")
def pretrain_run(generated_tiny: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pretraining run folder (its config.yaml only) on the generated tiny data."""
    from segloc.config import load_config, save_config
    from segloc.pretrain.config import PretrainConfig

    data = generated_tiny[0]
    config = load_config(Path(__file__).resolve().parents[2] / "configs" / "pretrain" / "segloc-cpu-demo.yaml",
                         PretrainConfig, [f"data.pidray={data / 'pidray'}",
                                          f"data.backgrounds={data / 'sixray' / 'JPEGImage'}"])
    run = tmp_path_factory.mktemp("pretrain-run")
    save_config(config, run / "config.yaml")
    return run


@pytest.fixture(scope="module")
def experiment_folder(pretrain_run: Path, random_detector_runs: dict[str, Path], random_chr_run: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment folder as segloc experiment lays it out: a fine-tuned detector, a CHR run, a pretraining run."""
    folder = tmp_path_factory.mktemp("experiment")
    (folder / "experiment.yaml").write_text("name: test\n")
    for source, target in ((random_detector_runs["cascade"], folder / "finetune" / "segloc"),
                           (random_chr_run, folder / "chr"), (pretrain_run, folder / "pretrain" / "segloc")):
        shutil.copytree(source, target)
    return folder
