"""Annotation readers on files laid out exactly like the real datasets, plus their error messages."""

import json
import os

import pytest

from ezclip_zoo.data import (
    ResumableDistributedSampler,
    VideoRecord,
    VideoSplit,
    base_novel_classes,
    read_class_descriptions,
    read_class_list,
    read_dataset,
    read_hmdb51,
    read_kinetics,
    read_ssv2,
    read_ucf101,
    read_video_csv,
    sample_k_shot,
    train_val_split,
)
from ezclip_zoo.errors import AnnotationError
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.text import ACTIONCLIP_TEMPLATES, class_texts
from ezclip_zoo.text.names import readable_class_name

CLASSES = ["moving right", "moving left", "moving down", "moving up"]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    return {
        name: write_motion_dataset(root / name, name, train_per_class=2, test_per_class=1)
        for name in ("ucf101", "hmdb51", "kinetics", "ssv2", "csv")
    }


@pytest.mark.parametrize(
    "raw, readable",
    [
        ("ApplyEyeMakeup", "apply eye makeup"),
        ("YoYo", "yo yo"),
        ("brush_hair", "brush hair"),
        ("HandstandPushups", "handstand pushups"),
        ("PlayingDaf", "playing daf"),
        ("ABCWord", "abc word"),
        ("passing American football (in game)", "passing American football (in game)"),
        ("  two   spaces ", "two spaces"),
    ],
)
def test_readable_class_names(raw, readable):
    assert readable_class_name(raw) == readable


def _by_path(split):
    return {os.path.basename(r.path): split.classes[r.label] for r in split.records}


def test_ucf101_reads_classind_order_labels_and_test_folders(layouts):
    p = layouts["ucf101"]
    splits = read_ucf101(p["annotation_dir"], p["video_root"], split=1)
    train, test = splits["train"], splits["test"]
    assert train.classes == CLASSES == test.classes  # classInd order, readable
    assert len(train) == 8 and len(test) == 4 and not train.missing
    # the label of every video is the class in its file name (train: from the list's index; test: from the folder)
    for split in (train, test):
        for name, cls in _by_path(split).items():
            assert name.startswith("v_" + cls.title().replace(" ", ""))
    with pytest.raises(FileNotFoundError, match="trainlist02"):
        read_ucf101(p["annotation_dir"], p["video_root"], split=2)


def test_ucf101_missing_videos_and_bad_lines(layouts, tmp_path):
    p = layouts["ucf101"]
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "classInd.txt").write_text(open(os.path.join(p["annotation_dir"], "classInd.txt")).read())
    (ann / "trainlist01.txt").write_text("MovingRight/v_gone.avi 1\n")
    (ann / "testlist01.txt").write_text("NoSuchClass/v_x.avi\n")
    with pytest.raises(AnnotationError, match=r"testlist01.txt:1"):
        read_ucf101(ann, p["video_root"])
    (ann / "testlist01.txt").write_text("")
    splits = read_ucf101(ann, p["video_root"])
    assert len(splits["train"]) == 0
    assert splits["train"].missing == [os.path.join(p["video_root"], "MovingRight/v_gone.avi")]
    (ann / "classInd.txt").write_text("1 A\n3 B\n")
    with pytest.raises(AnnotationError, match=r"classInd.txt:2"):
        read_ucf101(ann, p["video_root"])


def test_hmdb51_uses_1_for_train_2_for_test_and_skips_0(layouts):
    p = layouts["hmdb51"]
    splits = read_hmdb51(p["split_dir"], p["video_root"], split=1)
    assert splits["train"].classes == sorted(CLASSES)  # alphabetical identifiers, made readable
    assert len(splits["train"]) == 8 and len(splits["test"]) == 4
    assert all(os.path.basename(r.path).startswith("train_") for r in splits["train"].records)
    assert all(os.path.basename(r.path).startswith("test_") for r in splits["test"].records)
    assert not any("unused" in r.path for s in splits.values() for r in s.records)
    for split in splits.values():
        for r in split.records:
            assert os.path.basename(os.path.dirname(r.path)) == split.classes[r.label].replace(" ", "_")


def test_kinetics_finds_downloader_names_and_reports_missing(layouts):
    p = layouts["kinetics"]
    train = read_kinetics(p["train_csv"], p["video_root"])
    test = read_kinetics(p["test_csv"], p["video_root"], classes=train.classes)
    assert train.classes == sorted(CLASSES) and len(train) == 8 and len(test) == 4
    assert train.missing == ["deleted_video_000000_000010"]  # a row whose clip is not on disk
    for r in train.records:  # clips are in <split>/<label>/ folders named <youtube_id>_<start>_<end>.mp4
        assert os.path.basename(os.path.dirname(r.path)) == train.classes[r.label]
    bad = os.path.join(os.path.dirname(p["train_csv"]), "bad.csv")
    with open(bad, "w") as f:
        f.write("label,youtube_id\nabseiling,abc\n")
    with pytest.raises(AnnotationError, match="time_start"):
        read_kinetics(bad, p["video_root"])


def test_ssv2_strips_brackets_and_refuses_the_unlabelled_test_list(layouts, tmp_path):
    p = layouts["ssv2"]
    train = read_ssv2(p["labels_json"], p["train_json"], p["video_root"])
    assert train.classes == [f"Something {c}" for c in CLASSES]  # "[Something] moving right" -> no brackets
    assert len(train) == 8 and all(r.path.endswith(".webm") for r in train.records)
    test_json = tmp_path / "test.json"
    test_json.write_text(json.dumps([{"id": "1"}]))
    with pytest.raises(AnnotationError, match="no 'template'"):
        read_ssv2(p["labels_json"], test_json, p["video_root"])


def test_generic_csv_names_indices_and_errors(layouts, tmp_path):
    p = layouts["csv"]
    train = read_video_csv(p["train_csv"])
    test = read_video_csv(p["test_csv"], classes=train.classes)
    assert train.classes == sorted(CLASSES) and len(train) == 8 and len(test) == 4
    # integer labels need a class list; with one they index it
    root = os.path.dirname(p["train_csv"])
    first = train.records[0]
    rel = os.path.relpath(first.path, root)
    (tmp_path / "idx.csv").write_text(f"{os.path.join(root, rel)},{first.label}\n")
    with pytest.raises(AnnotationError, match="pass classes"):
        read_video_csv(tmp_path / "idx.csv")
    split = read_video_csv(tmp_path / "idx.csv", classes=train.classes)
    assert split.records == [VideoRecord(os.path.join(root, rel), first.label)]
    (tmp_path / "bad.csv").write_text("path,label\nonly-one-column\n")
    with pytest.raises(AnnotationError, match=r"bad.csv:2"):
        read_video_csv(tmp_path / "bad.csv")


def test_read_dataset_dispatches_every_format(layouts):
    p = layouts
    got = {
        "ucf101": read_dataset(
            "ucf101", annotations=p["ucf101"]["annotation_dir"], video_root=p["ucf101"]["video_root"]
        ),
        "hmdb51": read_dataset("hmdb51", annotations=p["hmdb51"]["split_dir"], video_root=p["hmdb51"]["video_root"]),
        "kinetics": read_dataset(
            "kinetics",
            train=p["kinetics"]["train_csv"],
            test=p["kinetics"]["test_csv"],
            video_root=p["kinetics"]["video_root"],
        ),
        "ssv2": read_dataset(
            "ssv2",
            labels=p["ssv2"]["labels_json"],
            train=p["ssv2"]["train_json"],
            test=p["ssv2"]["test_json"],
            video_root=p["ssv2"]["video_root"],
        ),
        "csv": read_dataset("csv", train=p["csv"]["train_csv"], test=p["csv"]["test_csv"]),
    }
    for name, splits in got.items():
        assert (len(splits["train"]), len(splits["test"])) == (8, 4), name
        assert splits["train"].classes == splits["test"].classes, name
    with pytest.raises(ValueError, match="unknown dataset format"):
        read_dataset("imagenet")


def test_descriptions_and_class_texts(tmp_path):
    path = tmp_path / "desc.csv"
    path.write_text('class,description\nMovingRight,"a shape slides, to the right"\nmoving_left,goes left\n')
    desc = read_class_descriptions(path)
    assert desc == {"moving right": "a shape slides, to the right", "moving left": "goes left"}
    assert class_texts(["moving right", "moving left"], descriptions=desc) == [
        ["a shape slides, to the right"],
        ["goes left"],
    ]
    with pytest.raises(ValueError, match="no description for 1 classes"):
        class_texts(["moving right", "moving up"], descriptions=desc)
    texts = class_texts(["jumping"])
    assert len(ACTIONCLIP_TEMPLATES) == 16 and texts[0][0] == "a photo of action jumping" and len(texts[0]) == 16
    assert class_texts(["jumping"], templates=None) == [["jumping"]]
    path.write_text("a,x\nA,y\n")
    with pytest.raises(AnnotationError, match="described twice"):
        read_class_descriptions(path)
    (tmp_path / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 YoYo\n")
    assert read_class_list(tmp_path / "classInd.txt") == ["apply eye makeup", "yo yo"]


def _toy_split(per_class=(5, 3, 4)):
    records = [VideoRecord(f"v{c}_{i}.mp4", c) for c, n in enumerate(per_class) for i in range(n)]
    return VideoSplit(["a", "b", "c"], records, "toy")


def test_k_shot_is_seeded_per_class_and_checks_k():
    split = _toy_split()
    one = sample_k_shot(split, 2, seed=1)
    assert one.class_counts() == [2, 2, 2]
    assert one.records == sample_k_shot(split, 2, seed=1).records  # same seed, same draw
    draws = {tuple(r.path for r in sample_k_shot(split, 2, seed=s).records) for s in range(6)}
    assert len(draws) > 1  # seeds give different training sets
    assert set(one.records) <= set(split.records)
    with pytest.raises(ValueError, match="fewer than k=4"):
        sample_k_shot(split, 4, seed=0)
    base = sample_k_shot(split, 3, seed=0, classes=["c", "a"])  # base classes, relabelled in the given order
    assert base.classes == ["c", "a"] and base.class_counts() == [3, 3]
    assert all(r.path.startswith("v2_") for r in base.records if r.label == 0)


def test_train_val_split_is_stratified_and_disjoint():
    split = _toy_split((10, 10, 1))
    train, val = train_val_split(split, 0.2, seed=0)
    assert val.class_counts() == [2, 2, 0] and train.class_counts() == [8, 8, 1]
    assert not set(train.records) & set(val.records)
    assert train_val_split(split, 0.2, seed=0)[1].records == val.records


def test_base_novel_and_restrict_classes():
    base, novel = base_novel_classes(["a", "b", "c"])
    assert (base, novel) == (["a", "b"], ["c"])
    sub = _toy_split().restrict_classes(["c"])
    assert sub.classes == ["c"] and sub.class_counts() == [4]
    with pytest.raises(ValueError, match="unknown classes"):
        _toy_split().restrict_classes(["z"])
    with pytest.raises(ValueError, match="duplicate class names"):
        VideoSplit(["a", "a"], [])


def test_resumable_sampler_matches_distributed_sampler_and_skips():
    data = list(range(23))
    full = list(ResumableDistributedSampler(data, num_replicas=2, rank=1, seed=3, drop_last=True))
    sampler = ResumableDistributedSampler(data, num_replicas=2, rank=1, seed=3, drop_last=True)
    sampler.set_start(4)
    assert list(sampler) == full[4:] and len(sampler) == len(full) - 4
    sampler.set_epoch(1)  # a new epoch starts from its beginning, in a new order
    assert len(list(sampler)) == len(full) and list(sampler) != full
    r0 = list(ResumableDistributedSampler(data, num_replicas=2, rank=0, seed=3, drop_last=True))
    assert not set(r0) & set(full) and len(r0) == len(full) == 11
