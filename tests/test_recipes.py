"""The recipes as library calls: `ezclip_zoo.train.finetune` and `ezclip_zoo.evaluation.evaluate_dataset` run what
``ezclip-zoo finetune`` / ``ezclip-zoo evaluate`` run (the commands are thin callers: same weights, same report),
on the tiny random architecture and a generated motion dataset."""

import json
import warnings

import pytest
import torch
from safetensors.torch import load_file

from ezclip_zoo.cli import main
from ezclip_zoo.errors import UntrainedModelWarning
from ezclip_zoo.evaluation.protocols import evaluate_base_to_novel, evaluate_splits
from ezclip_zoo.evaluation.recipe import evaluate_dataset, read_test_splits, summary_line
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.train.config import TrainConfig
from ezclip_zoo.train.recipe import finetune, training_splits
from ezclip_zoo.train.state import trainable_digest
from ezclip_zoo.zoo.loading import load
from ezclip_zoo.zoo.serialization import save_pretrained

TINY = "ezclip-test-tiny"


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory):
    """4 motion classes (moving right/left/down/up), 3 training and 3 test videos each."""
    return write_motion_dataset(tmp_path_factory.mktemp("recipes"), "csv", train_per_class=3, test_per_class=3)


def _fresh(seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load(TINY, seed=seed, pretrained_backbone=False)


def test_finetune_saves_the_model_it_returns_and_trains_from_the_seeded_architecture(csv_data, tmp_path):
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, warmup_steps=1, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedModelWarning)  # training a fresh architecture is the point
        result = finetune(
            TINY,
            format="csv",
            train=csv_data["train_csv"],
            validate=False,
            templates=None,
            pretrained_backbone=False,
            config=config,
            output_dir=tmp_path / "run",
        )
    assert result.selected == "last" and result.state.global_step == 3  # 12 videos, batches of 4
    assert result.model_dir == tmp_path / "run" / "model"
    saved = load(result.model_dir)
    assert trainable_digest(saved) == trainable_digest(result.model)
    assert trainable_digest(result.model) != trainable_digest(_fresh(seed=3))  # it trained
    # the same recipe from an EZCLIP built by the same door with the same seed: the same weights (every rank
    # of a torchrun job builds its model this way)
    again = finetune(
        _fresh(seed=3), format="csv", train=csv_data["train_csv"], validate=False, templates=None, config=config
    )
    assert again.model_dir is None and trainable_digest(again.model) == trainable_digest(result.model)
    assert "training: dataset csv, videos 12, classes 4, text none" in (result.model_dir / "README.md").read_text()


def test_training_splits_restrict_classes_hold_out_and_draw_k_shot(csv_data, tmp_path):
    names = ["moving up", "moving left"]
    listed = tmp_path / "base.txt"
    listed.write_text("\n".join(names) + "\n")
    train, val = training_splits("csv", train=csv_data["train_csv"], classes=listed, val_fraction=0.3)
    assert train.classes == names and val.classes == names  # the file's order, validation restricted too
    assert len(train) == 4 and len(val) == 2  # 1 of each class's 3 videos held out
    shots, none = training_splits(
        "csv", train=csv_data["train_csv"], classes=names, k_shot=2, k_shot_seed=2, validate=False
    )
    assert none is None and shots.classes == names and len(shots) == 4
    assert [r.label for r in shots.records] == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="fewer than k=4"):
        training_splits("csv", train=csv_data["train_csv"], k_shot=4, validate=False)


def test_the_finetune_command_is_the_library_call(csv_data, tmp_path, capsys):
    """The CLI's options map onto finetune's arguments: same classes, k-shot, texts, overrides, weights."""
    classes = tmp_path / "classes.txt"
    classes.write_text("moving down\nmoving right\n")
    cli_out = tmp_path / "cli"
    argv = [
        "finetune",
        "--format",
        "csv",
        "--train",
        csv_data["train_csv"],
        "--model",
        TINY,
        "--no-pretrained-backbone",
        "--classes",
        str(classes),
        "--k-shot",
        "2",
        "--k-shot-seed",
        "3",
        "--no-val",
        "--templates",
        "none",
        "--no-flip",
        "--num-frames",
        "4",
        "--prompt-dropout",
        "0",
        "--epochs",
        "2",
        "--batch-size",
        "2",
        "--lr",
        "1e-3",
        "--warmup-steps",
        "1",
        "--seed",
        "5",
        "--workers",
        "0",
        "--output",
        str(cli_out),
        "--quiet",
    ]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["steps"] == 4 and printed["selected"] == "last"  # 2 classes x 2 shots, batches of 2, 2 epochs

    config = TrainConfig(epochs=2, batch_size=2, lr=1e-3, warmup_steps=1, seed=5)
    result = finetune(
        TINY,
        format="csv",
        train=csv_data["train_csv"],
        classes=["moving down", "moving right"],
        k_shot=2,
        k_shot_seed=3,
        validate=False,
        templates=None,
        flip=False,
        pretrained_backbone=False,
        overrides={"num_frames": 4, "prompt_dropout": 0.0},
        config=config,
        output_dir=tmp_path / "lib",
    )
    assert result.model.num_frames == 4
    assert "videos 4, classes 2, text none" in (result.model_dir / "README.md").read_text()  # the k-shot draw
    cli_weights = load_file(str(cli_out / "model" / "model.safetensors"))
    lib_weights = load_file(str(result.model_dir / "model.safetensors"))
    assert cli_weights.keys() == lib_weights.keys()
    for name in cli_weights:
        assert torch.equal(cli_weights[name], lib_weights[name]), name
    summary = json.loads((result.model_dir.parent / "train_summary.json").read_text())
    assert summary["state"]["global_step"] == 4


def test_settings_for_architectures_are_refused_for_trained_models(csv_data, tmp_path, capsys):
    with pytest.raises(ValueError, match="given by name"):
        finetune(_fresh(), format="csv", train=csv_data["train_csv"], overrides={"num_frames": 4})
    with pytest.raises(ValueError, match="given by name"):
        evaluate_dataset(_fresh(), format="csv", test=csv_data["test_csv"], pretrained_backbone=False)
    folder = save_pretrained(_fresh(), tmp_path / "folder")
    with pytest.raises(ValueError, match="apply to architectures"):
        finetune(folder, format="csv", train=csv_data["train_csv"], overrides={"num_frames": 4})
    # --vanilla-clip reaches load as overrides: a trained checkpoint refuses it instead of ignoring it
    argv = ["evaluate", "--model", str(folder), "--vanilla-clip", "--format", "csv", "--test", csv_data["test_csv"]]
    assert main(argv) == 1 and "apply to architectures" in capsys.readouterr().err


def _without_times(value):
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


@pytest.mark.parametrize(
    "protocol, extra_argv, overrides",
    [
        ("zero-shot", [], None),
        ("base-to-novel", [], None),
        ("zero-shot", ["--vanilla-clip"], {"temporal_prompts": False}),
    ],
)
def test_the_evaluate_command_reports_what_the_library_returns(
    csv_data, tmp_path, capsys, protocol, extra_argv, overrides
):
    report = tmp_path / "report.json"
    argv = [
        "evaluate",
        "--model",
        TINY,
        "--no-pretrained-backbone",
        "--seed",
        "4",
        "--format",
        "csv",
        "--test",
        csv_data["test_csv"],
        csv_data["test_csv"],
        "--protocol",
        protocol,
        "--templates",
        "none",
        "--workers",
        "0",
        "--report",
        str(report),
        "--quiet",
        *extra_argv,
    ]
    assert main(argv) == 0
    line = capsys.readouterr().out.splitlines()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        results = evaluate_dataset(
            TINY,
            format="csv",
            test=[csv_data["test_csv"]] * 2,
            protocol=protocol,
            templates=None,
            seed=4,
            pretrained_backbone=False,
            overrides=overrides,
        )
    assert _without_times(json.loads(report.read_text())["results"]) == _without_times(results)
    assert line == summary_line(results)
    assert len(results["splits"]) == 2


def test_evaluate_dataset_composes_the_protocols(csv_data, tmp_path):
    model = _fresh(seed=1)
    splits = read_test_splits("csv", test=csv_data["test_csv"])
    assert len(splits) == 1 and len(splits[0]) == 12
    zero_shot = evaluate_dataset(model, format="csv", test=csv_data["test_csv"], templates=None)
    assert _without_times(zero_shot) == _without_times(evaluate_splits(model, splits, templates=None))
    assert summary_line(zero_shot).startswith("top-1 ") and "over 1 split(s)" in summary_line(zero_shot)

    base, novel = ["moving left", "moving up"], ["moving right", "moving down"]
    novel_file = tmp_path / "novel.txt"
    novel_file.write_text("\n".join(novel))
    b2n = evaluate_dataset(
        model,
        format="csv",
        test=csv_data["test_csv"],
        protocol="base-to-novel",
        base_classes=base,
        novel_classes=novel_file,
        templates=None,
    )
    direct = evaluate_base_to_novel(model, splits[0], base, novel, templates=None)
    assert _without_times(b2n["splits"]) == [_without_times(direct)]
    assert b2n["hm"] == {"mean": direct["hm"], "std": 0.0} and b2n["splits"][0]["details"]["base"]["num_videos"] == 6
    assert summary_line(b2n) == f"base {direct['base']:.2f}, novel {direct['novel']:.2f}, HM {direct['hm']:.2f}"
    with pytest.raises(ValueError, match="protocol"):
        evaluate_dataset(model, format="csv", test=csv_data["test_csv"], protocol="few-shot")
    with pytest.raises(ValueError, match="test annotation"):
        evaluate_dataset(model, format="csv")
