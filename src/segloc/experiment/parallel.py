"""Fine-tuning runs side by side (``finetune.parallel``).

On a CPU, a detector step is many small operations that spread badly over threads: on 2 cores, two
one-thread cascade fine-tunes make 1.2-1.4x the steps per second of one two-thread run
(benchmarks/bench_parallel.py, 2026-12-01; 1.2x in a cpu-small experiment with its data loaders). Each
run gets its own spawned process and an equal share of torch's threads; the runs resume from their own
checkpoints, so an interrupted experiment loses nothing that finished.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import torch
from tqdm import tqdm

from segloc.detection.config import FinetuneConfig
from segloc.engine.runfiles import trained_seconds

log = logging.getLogger("segloc")

FinetuneJob = tuple[str, FinetuneConfig, Path]
Timing = tuple[float, float]  # seconds in all, seconds of them carried over from an interrupted attempt


def run_finetunes(jobs: list[FinetuneJob], parallel: int = 1) -> Iterator[tuple[str, Path, Timing]]:
    """Fine-tune every job (name, config, run folder), ``parallel`` at a time; yield (name, run folder,
    timing) as each one finishes."""
    if parallel <= 1 or len(jobs) <= 1:
        for name, config, folder in jobs:
            yield name, *_timed_finetune(config, folder, progress=True)
        return
    workers = min(parallel, len(jobs))
    threads = max(1, torch.get_num_threads() // workers)
    log.info("fine-tuning %d runs, %d at once with %d torch thread(s) each", len(jobs), workers, threads)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(threads,)) as pool:
        pending: dict[Future, str] = {
            pool.submit(_finetune_in_worker, config, folder): name for name, config, folder in jobs
        }
        try:
            with tqdm(total=len(jobs), desc="finetune runs", unit="run", dynamic_ncols=True) as bar:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        name = pending.pop(future)
                        folder, timing = future.result()
                        log.info("finetune %s: finished in %.1f min", name, timing[0] / 60)
                        bar.update(1)
                        yield name, folder, timing
        finally:
            for future in pending:
                future.cancel()


def _init_worker(threads: int) -> None:
    """A worker process: its share of the threads, and segloc's log lines on the console."""
    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")


def _finetune_in_worker(config: FinetuneConfig, folder: Path) -> tuple[Path, Timing]:
    """One fine-tuning run in a worker process, without a progress bar (the parent draws one)."""
    for handler in logging.getLogger().handlers:  # the runs' lines interleave on the console
        handler.setFormatter(logging.Formatter(f"%(levelname)s [{folder.name}] %(message)s"))
    log.info("finetune %s: started", folder.name)
    return _timed_finetune(config, folder, progress=False)


def _timed_finetune(config: FinetuneConfig, folder: Path, progress: bool) -> tuple[Path, Timing]:
    """Fine-tune (resuming what the folder holds); the run folder and its timing, with the training time an
    interrupted earlier attempt had checkpointed."""
    from segloc.detection.train import finetune

    carried = trained_seconds(folder)
    start = time.perf_counter()
    out = finetune(config, folder, resume=True, progress=progress)
    return out, (time.perf_counter() - start + carried, carried)
