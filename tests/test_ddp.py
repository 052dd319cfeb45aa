"""``torchrun --nproc_per_node=2 -m ezclip_zoo.cli finetune`` (gloo on CPU): both ranks end bit-identical, and the
result (validation included) equals one process training on the same global batch (features are gathered across
ranks for the loss)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _helpers.servers import free_port
from safetensors.torch import load_file

from ezclip_zoo.synthetic import write_motion_dataset

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

ROOT = Path(__file__).resolve().parents[1]
FINETUNE = ["-m", "ezclip_zoo.cli", "finetune"]  # the package's command, as an installed user runs it


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


@pytest.fixture(scope="module")
def ucf(tmp_path_factory):
    return write_motion_dataset(tmp_path_factory.mktemp("ucf"), "ucf101", train_per_class=4, test_per_class=0)


def test_torchrun_two_ranks_end_identical_and_match_one_process(ucf, tmp_path):
    common = [
        "--format",
        "ucf101",
        "--annotations",
        ucf["annotation_dir"],
        "--video-root",
        ucf["video_root"],
        "--model",
        "ezclip-test-tiny",
        "--no-pretrained-backbone",
        "--epochs",
        "2",
        "--workers",
        "0",
        "--threads",
        "1",
        "--warmup-epochs",
        "0.5",
        "--lr",
        "1e-3",
        "--max-grad-norm",
        "1.0",
        # no dropout, so that both runs draw nothing at random beyond the (rank-independent) clip sampling
        "--drop-path",
        "0",
        "--prompt-dropout",
        "0",
    ]
    ddp_out, single_out = tmp_path / "ddp", tmp_path / "single"
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            f"--master_port={free_port()}",
            *FINETUNE,
            *common,
            "--batch-size",
            "2",
            "--output",
            str(ddp_out),
        ],
        tmp_path,
    )
    summary = json.loads((ddp_out / "train_summary.json").read_text())
    # 16 videos, 4 held out for validation (scored in shards by both ranks): 12 = 3 steps of 2 ranks x 2, 2 epochs
    assert summary["world_size"] == 2 and summary["state"]["global_step"] == 6
    assert [h["val_videos"] for h in summary["state"]["history"]] == [4, 4]
    digests = summary["rank_digests"]
    assert len(digests) == 2 and digests[0] == digests[1] and summary["ranks_in_sync"]

    # one process with the same global batch (2 ranks x 2 = 4) sees the same clips in the same steps
    _run([sys.executable, *FINETUNE, *common, "--batch-size", "4", "--output", str(single_out)], tmp_path)
    single_summary = json.loads((single_out / "train_summary.json").read_text())
    assert [h["val_top1"] for h in single_summary["state"]["history"]] == [
        h["val_top1"] for h in summary["state"]["history"]
    ]
    assert single_summary["selected"] == summary["selected"]
    ddp = load_file(str(ddp_out / "model" / "model.safetensors"))
    single = load_file(str(single_out / "model" / "model.safetensors"))
    assert ddp.keys() == single.keys()
    assert all(ddp[name].abs().sum() > 0 for name in ddp if "fc2" in name)  # trained (they start at zero)
    for name in ddp:
        torch.testing.assert_close(ddp[name], single[name], rtol=0, atol=1e-5, msg=name)
