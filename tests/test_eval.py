"""Evaluation: metrics against hand-computed values, the dataset evaluation against per-video forward passes,
multi-split mean +- std, base-to-novel, and ``ezclip-zoo evaluate`` end to end."""

import json
import math

import pytest
import torch

import ezclip_zoo
from ezclip_zoo.data import VideoClipDataset, VideoRecord, VideoSplit, read_dataset
from ezclip_zoo.evaluation import (
    evaluate,
    evaluate_base_to_novel,
    evaluate_splits,
    harmonic_mean,
    mean_std,
    summarize_splits,
    topk_accuracy,
    write_report,
)
from ezclip_zoo.inference.scoring import class_probabilities
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.text import class_texts
from ezclip_zoo.transforms.eval import preprocess_frames
from ezclip_zoo.video import read_video_frames


@pytest.fixture(scope="module")
def model():
    from _helpers.models import randomize_trainable, tiny

    m = tiny(0)
    randomize_trainable(m, seed=1, scale=2.0)
    return m


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory):
    paths = write_motion_dataset(tmp_path_factory.mktemp("evalcsv"), "csv", train_per_class=1, test_per_class=3)
    return read_dataset("csv", train=paths["train_csv"], test=paths["test_csv"])


def test_topk_against_hand_computed_values():
    scores = torch.tensor(
        [
            [0.10, 0.50, 0.20, 0.15, 0.05],  # label 1: top-1 hit
            [0.30, 0.20, 0.10, 0.25, 0.15],  # label 3: 2nd
            [0.04, 0.10, 0.60, 0.20, 0.06],  # label 0: 5th
            [0.40, 0.30, 0.12, 0.10, 0.08],  # label 2: 3rd
        ]
    )
    labels = torch.tensor([1, 3, 0, 2])
    expected = {1: 25.0, 2: 50.0, 3: 75.0, 4: 75.0, 5: 100.0, 10: 100.0}
    assert topk_accuracy(scores, labels, (1, 2, 3, 4, 5, 10)) == expected


def test_summaries_against_hand_computed_values():
    mean, std = mean_std([50.0, 75.0, 100.0])
    assert mean == 75.0 and math.isclose(std, math.sqrt((625 + 0 + 625) / 3))
    assert math.isclose(harmonic_mean(80.0, 60.0), 2 * 80 * 60 / 140) and harmonic_mean(0.0, 0.0) == 0.0


def test_template_probabilities_are_averaged_after_the_softmax():
    # class texts of 2 templates for 2 classes: cosines with the video are [1, 0] (template 0), [0.6, 1] (template 1)
    text = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.8], [1.0, 0.0]]])  # [M, C, E]
    probs = class_probabilities(torch.tensor([[2.0, 0.0]]), text, logit_scale=1.0)
    by_hand = (torch.tensor([1.0, 0.0]).softmax(0) + torch.tensor([0.6, 1.0]).softmax(0)) / 2  # [0.566, 0.434]
    torch.testing.assert_close(probs, by_hand[None])
    averaged_logits = torch.tensor([0.8, 0.5]).softmax(0)  # the other order of operations gives [0.574, 0.426]
    assert (probs[0] - averaged_logits).abs().max() > 5e-3


def test_evaluate_matches_per_video_forward_passes(model, csv_data, tmp_path):
    test = csv_data["test"]
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"garbage" * 100)
    split = VideoSplit(test.classes, test.records + [VideoRecord(str(junk), 0)], "test+junk")
    texts = class_texts(split.classes, templates=None)
    result = evaluate(model, VideoClipDataset(split, 8, 64), texts, batch_size=5, keep_scores=True)

    # by hand: decode each video alone, preprocess with the reference protocol, run the model, count hits
    hits1, rows = 0, []
    with torch.no_grad():
        for record in test.records:
            frames = preprocess_frames(read_video_frames(record.path, 8), 64, resize_size=73, interpolation="bilinear")
            probs = model(frames[None], split.classes).softmax(-1)[0]
            rows.append(probs)
            hits1 += int(probs.argmax()) == record.label
    assert result.num_videos == len(test) == 12 and result.num_skipped == 1
    assert result.failures[0][0] == str(junk)
    assert result.top1 == 100.0 * hits1 / 12 and result.top5 == 100.0  # 4 classes: top-5 always hits
    torch.testing.assert_close(result.scores, torch.stack(rows), rtol=0, atol=1e-5)
    assert result.labels.tolist() == [r.label for r in test.records] and result.indices.tolist() == list(range(12))
    assert 0 < hits1 < 12  # a random model gets some right, some wrong: the check above is not vacuous


def test_multi_split_mean_and_std(model, csv_data):
    test = csv_data["test"]
    halves = [test.subset(range(0, 6), "a"), test.subset(range(6, 12), "b"), test]
    summary = evaluate_splits(model, halves, templates=None, batch_size=6)
    single = [evaluate(model, VideoClipDataset(s, 8, 64), class_texts(s.classes, templates=None)) for s in halves]
    mean, std = mean_std([r.top1 for r in single])
    assert summary["top1"] == {"mean": mean, "std": std} and summary["num_splits"] == 3
    assert [s["top1"] for s in summary["splits"]] == [r.top1 for r in single]
    assert summarize_splits(single)["top5"]["mean"] == 100.0


def test_base_to_novel_scores_each_half_among_its_own_classes(model, csv_data):
    test = csv_data["test"]
    base, novel = test.classes[:2], test.classes[2:]
    out = evaluate_base_to_novel(model, test, base, novel, templates=None)
    for kind, names in (("base", base), ("novel", novel)):
        sub = test.restrict_classes(names)
        assert len(sub) == 6 and sub.classes == names
        r = evaluate(model, VideoClipDataset(sub, 8, 64), class_texts(names, templates=None))
        assert out[kind] == r.top1 and out["details"][kind]["num_classes"] == 2
    assert out["hm"] == harmonic_mean(out["base"], out["novel"])
    with pytest.raises(ValueError, match="overlap"):
        evaluate_base_to_novel(model, test, base, base, templates=None)


def test_multi_view_scores_average_the_views(model, csv_data):
    test = csv_data["test"].subset(range(3))
    texts = class_texts(test.classes, templates=None)
    multi = evaluate(model, VideoClipDataset(test, 8, 64, num_clips=2, num_crops=3), texts, keep_scores=True)
    views = VideoClipDataset(test, 8, 64, num_clips=2, num_crops=3)
    with torch.no_grad():
        expected = torch.stack([model(views[i]["frames"], test.classes).softmax(-1).mean(0) for i in range(3)])
    torch.testing.assert_close(multi.scores, expected, rtol=0, atol=1e-5)


def test_report_records_results_and_provenance(tmp_path):
    path = write_report(tmp_path / "r" / "report.json", {"top1": 1.0}, model="m")
    data = json.loads(path.read_text())
    assert data["results"] == {"top1": 1.0} and data["meta"]["model"] == "m" and "torch" in data["meta"]


def test_evaluate_command_writes_a_report(csv_data, tmp_path, capsys):
    from ezclip_zoo.cli import main

    test_csv = tmp_path / "test.csv"
    test_csv.write_text(
        "path,label\n" + "".join(f"{r.path},{csv_data['test'].classes[r.label]}\n" for r in csv_data["test"].records)
    )
    report = tmp_path / "report.json"
    argv = ["evaluate", "--model", "ezclip-test-tiny", "--no-pretrained-backbone", "--format", "csv"]
    argv += ["--test", str(test_csv), str(test_csv), "--workers", "0", "--threads", "1", "--templates", "none"]
    assert main([*argv, "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    results = data["results"]
    assert results["num_splits"] == 2 and results["top1"]["std"] == 0.0  # the same file twice
    assert results["splits"][0]["num_videos"] == 12 and data["meta"]["protocol"] == "zero-shot"
    capsys.readouterr()
    assert main([*argv, "--protocol", "base-to-novel"]) == 0
    assert "HM" in capsys.readouterr().out


@pytest.mark.parametrize(
    "protocol, templates, clips, crops",
    [
        ("reference", "actionclip", 1, 1),
        ("clip", None, 2, 3),
    ],
)
def test_evaluate_and_classify_give_the_same_probabilities(model, csv_data, protocol, templates, clips, crops):
    """One zero-shot layer: the same protocol, texts and views give the same scores through both entry points."""
    from ezclip_zoo.text import build_label_set
    from ezclip_zoo.transforms import VideoTransform

    test = csv_data["test"]
    classes = test.classes
    texts = build_label_set(classes, templates=templates).per_class()
    dataset = VideoClipDataset(
        test,
        model.num_frames,
        model.image_size,
        num_clips=clips,
        transform=VideoTransform.from_model(model, protocol=protocol, num_crops=crops),
    )
    result = evaluate(model, dataset, texts, keep_scores=True)
    videos = [r.path for r in test.records]
    classified = ezclip_zoo.inference.classify(
        model,
        videos,
        classes,
        templates=templates,
        protocol=protocol,
        num_clips=clips,
        num_crops=crops,
        topk=len(classes),
    )
    probs = torch.stack([r.all_probabilities for r in classified])
    torch.testing.assert_close(result.scores, probs, atol=1e-5, rtol=1e-5)
    assert result.scores.shape == (len(videos), len(classes))
    assert [r.class_names for r in classified][0] == tuple(classes)
