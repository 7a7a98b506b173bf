"""Run folders through the CLI: nothing a user made is deleted, failed starts leave nothing to clean up,
errors inside DataLoader workers are one line, resume refuses a changed config."""

from __future__ import annotations

import json
from pathlib import Path

from bad_inputs import assert_clean_error, finetune_config


def _user_folder(path: Path) -> Path:
    path.mkdir()
    (path / "results.csv").write_text("weeks of measurements\n")
    return path


def test_overwrite_with_a_bad_data_path_deletes_nothing(cli, tmp_path: Path) -> None:
    user = _user_folder(tmp_path / "experiments")
    config = finetune_config(tmp_path / "ft.yaml", tmp_path / "no-such-pidray")
    result = cli("finetune", "--config", config, "--out", user, "--overwrite")
    assert_clean_error(result, "no-such-pidray")
    assert (user / "results.csv").read_text() == "weeks of measurements\n"


def test_overwrite_refuses_a_folder_segloc_did_not_make(cli, pidray: Path, tmp_path: Path) -> None:
    user = _user_folder(tmp_path / "experiments")
    config = finetune_config(tmp_path / "ft.yaml", pidray)
    assert_clean_error(cli("finetune", "--config", config, "--out", user, "--overwrite"), str(user), "did not create")
    assert sorted(p.name for p in user.iterdir()) == ["results.csv"]


def test_failed_start_then_retry_then_resume_rules(cli, pidray: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    config = finetune_config(tmp_path / "ft.yaml", pidray)
    assert_clean_error(
        cli("finetune", "--config", config, "--out", run, "--init", tmp_path / "typo.safetensors"), "typo.safetensors"
    )
    assert not run.exists()
    assert cli("finetune", "--config", config, "--out", run).code == 0  # no --resume / --overwrite needed
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_00000002.pt"]
    assert_clean_error(cli("finetune", "--config", config, "--out", run), "--resume", "--overwrite")
    assert_clean_error(
        cli("finetune", "--out", run, "--resume", "--set", "train.epochs=2"), "train.epochs (1.0 -> 2.0)"
    )
    assert cli("finetune", "--config", config, "--out", run, "--overwrite").code == 0


def test_worker_error_is_one_line_and_skip_bad_trains_on(cli, pidray: Path, tmp_path: Path) -> None:
    image = pidray / "train" / "train1.png"
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 2])  # header intact: only decoding finds it, in a worker
    run = tmp_path / "run"
    config = finetune_config(tmp_path / "ft.yaml", pidray, data={"root": str(pidray), "workers": 2})
    assert_clean_error(cli("finetune", "--config", config, "--out", run), "train1.png", "cannot decode")
    result = cli("finetune", "--config", config, "--out", run, "--skip-bad")  # the failed start is no run
    assert result.code == 0, result.err
    init = json.loads((run / "init_report.json").read_text())
    assert init["name"] == "random" and (run / "model_final.pt").is_file()


def test_init_on_the_command_line_renames_the_run_unless_a_name_is_set(cli, pidray: Path, tmp_path: Path) -> None:
    config = finetune_config(tmp_path / "ft.yaml", pidray, init_name="segloc")  # a config saved by a SegLoc run
    for name, extra in (("random", []), ("mine", ["--set", "init_name=mine"])):
        run = tmp_path / name
        assert cli("finetune", "--config", config, "--out", run, "--init", "random", *extra).code == 0
        assert json.loads((run / "init_report.json").read_text())["name"] == name
