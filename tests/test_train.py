"""Fine-tuning: every annotation format end to end, frozen tensors untouched, exact resume, skipped videos,
model selection on validation, and the recipe's optimizer, schedule, clipping, seed and precision."""

import json
import math

import pytest
import torch
from _helpers.models import tiny

import ezclip_zoo
from ezclip_zoo.data import VideoClipDataset, read_dataset, train_val_split
from ezclip_zoo.errors import ResumeError
from ezclip_zoo.evaluation import evaluate
from ezclip_zoo.synthetic import MotionClips, MotionVideoConfig, write_motion_dataset
from ezclip_zoo.text import class_texts
from ezclip_zoo.train import TrainConfig, WarmupCosine, build_optimizer, build_scheduler, fit, trainable_digest


def read_layout(layout, paths):
    if layout in ("ucf101", "hmdb51"):
        key = "annotation_dir" if layout == "ucf101" else "split_dir"
        return read_dataset(layout, annotations=paths[key], video_root=paths["video_root"])
    if layout == "ssv2":
        return read_dataset(
            "ssv2", labels=paths["labels_json"], train=paths["train_json"], video_root=paths["video_root"]
        )
    root = paths["video_root"] if layout == "kinetics" else None
    return read_dataset(layout, train=paths["train_csv"], video_root=root)


@pytest.fixture(scope="module")
def csv_paths(tmp_path_factory):
    return write_motion_dataset(tmp_path_factory.mktemp("csv3"), "csv", train_per_class=3, test_per_class=1)


def video_set(split, model, seed=0):
    return VideoClipDataset(split, model.num_frames, model.image_size, train=True, seed=seed)


@pytest.mark.parametrize("layout", ["ucf101", "hmdb51", "kinetics", "ssv2", "csv"])
def test_training_end_to_end_in_every_format(layout, tmp_path):
    paths = write_motion_dataset(tmp_path / "data", layout, train_per_class=2, test_per_class=0)
    train = read_layout(layout, paths)["train"]
    assert len(train) == 8
    model = tiny()
    frozen = {k: v.clone() for k, v in model.clip.state_dict().items()}
    before = {k: v.clone() for k, v in model.trainable_state_dict().items()}
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, warmup_steps=1)
    result = fit(
        model, video_set(train, model), config, class_texts=class_texts(train.classes), output_dir=tmp_path / "run"
    )
    assert result.state.global_step == 2 and result.selected == "last" and result.state.skipped_videos == 0
    after = model.trainable_state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before), "every trainable tensor must train"
    state = model.clip.state_dict()
    assert all(torch.equal(frozen[k], state[k]) for k in frozen), "the frozen CLIP changed"
    loaded = ezclip_zoo.load(result.model_dir)  # the final output is a zoo folder
    assert trainable_digest(loaded) == trainable_digest(model)
    frames = torch.randn(1, 8, 3, 64, 64)
    torch.testing.assert_close(loaded(frames, train.classes), model(frames, train.classes), rtol=0, atol=1e-5)


def _resume_config(**overrides):
    base = dict(
        epochs=2,
        batch_size=2,
        grad_accum_steps=2,
        lr=2e-3,
        warmup_steps=2,
        checkpoint_every_steps=2,
        max_grad_norm=1.0,
        seed=7,
    )
    return TrainConfig(**{**base, **overrides})


def test_interrupted_run_resumes_to_bit_identical_weights(csv_paths, tmp_path):
    train = read_dataset("csv", train=csv_paths["train_csv"])["train"]  # 12 clips: 3 steps of 2 x 2 per epoch
    texts = class_texts(train.classes)

    model = tiny(1)
    full = fit(model, video_set(train, model, 7), _resume_config(), class_texts=texts, output_dir=tmp_path / "full")
    assert full.state.global_step == 6

    class Crash(RuntimeError):
        pass

    def crash_at_5(state):
        if state.global_step == 5:  # after the mid-epoch checkpoint of step 4, before step 5 is saved
            raise Crash

    model = tiny(1)
    with pytest.raises(Crash):
        fit(
            model,
            video_set(train, model, 7),
            _resume_config(),
            class_texts=texts,
            output_dir=tmp_path / "cut",
            callbacks=[crash_at_5],
        )
    saved = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert saved["state"]["global_step"] == 4 and saved["state"]["epoch"] == 1 and saved["state"]["step_in_epoch"] == 1

    model = tiny(1)  # a fresh process would rebuild the model the same way
    resumed = fit(
        model, video_set(train, model, 7), _resume_config(), class_texts=texts, output_dir=tmp_path / "cut", resume=True
    )
    assert resumed.state.global_step == 6
    assert trainable_digest(model) == full.rank_digests[0]
    summary = json.loads((tmp_path / "cut" / "train_summary.json").read_text())
    assert summary["rank_digests"] == full.rank_digests

    for changed, message in ((dict(lr=1e-3), "lr: 0.002 -> 0.001"), (dict(text_lr=1e-4), "text_lr: None -> 0.0001")):
        with pytest.raises(ResumeError, match=message):
            fit(
                tiny(1),
                video_set(train, model, 7),
                _resume_config(**changed),
                class_texts=texts,
                output_dir=tmp_path / "cut",
                resume=True,
            )


def test_undecodable_videos_are_skipped_and_counted(csv_paths, tmp_path):
    train = read_dataset("csv", train=csv_paths["train_csv"])["train"]
    broken = train.records[3].path
    data = tmp_path / "broken.mp4"
    data.write_bytes(open(broken, "rb").read()[:200])  # a truncated copy
    from ezclip_zoo.data import VideoRecord, VideoSplit

    records = list(train.records)
    records[3] = VideoRecord(str(data), records[3].label)
    split = VideoSplit(train.classes, records, "with-broken")
    model = tiny()
    result = fit(
        model,
        video_set(split, model),
        TrainConfig(epochs=2, batch_size=4, warmup_steps=0),
        class_texts=class_texts(split.classes),
        output_dir=tmp_path / "run",
    )
    assert result.state.global_step == 6
    assert result.state.skipped_videos == 2  # once per epoch
    assert result.state.failed_videos == [str(data)]
    assert result.state.history[-1]["skipped_videos"] == 2


def test_model_selection_uses_the_validation_split(csv_paths, tmp_path):
    train, val = train_val_split(read_dataset("csv", train=csv_paths["train_csv"])["train"], 0.34, seed=0)
    model = tiny(3)
    val_set = VideoClipDataset(val, model.num_frames, model.image_size)
    texts = class_texts(train.classes, templates=None)
    result = fit(
        model,
        video_set(train, model),
        TrainConfig(epochs=3, batch_size=4, lr=5e-3, warmup_steps=0),
        class_texts=texts,
        output_dir=tmp_path / "run",
        val_data=val_set,
    )
    history = result.state.history
    assert [h["epoch"] for h in history] == [0, 1, 2] and all("val_top1" in h for h in history)
    best = max(h["val_top1"] for h in history)
    assert result.state.best_metric == best and result.selected == "best"
    first_best = next(h for h in history if h["val_top1"] == best)
    assert result.state.best_step == first_best["step"]
    assert result.state.best_step < result.state.global_step  # in this run selection goes back to an earlier epoch
    last = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["trainable"]  # the last step's weights
    assert any(not torch.equal(last[k], v) for k, v in model.trainable_state_dict().items())
    # the returned model and the final folder hold the best epoch's weights, which score the best accuracy
    assert trainable_digest(ezclip_zoo.load(tmp_path / "run" / "model")) == trainable_digest(model)
    assert trainable_digest(ezclip_zoo.load(tmp_path / "run" / "best")) == trainable_digest(model)
    assert evaluate(model, val_set, texts).top1 == best
    in_memory = tiny(3)  # without output_dir the best weights are kept in memory
    fit(
        in_memory,
        video_set(train, in_memory),
        TrainConfig(epochs=3, batch_size=4, lr=5e-3, warmup_steps=0),
        class_texts=texts,
        val_data=val_set,
    )
    assert trainable_digest(in_memory) == trainable_digest(model)


@pytest.fixture(scope="module")
def motion():
    return MotionClips(16, seed=0, config=MotionVideoConfig(size=64))


def test_optimizer_holds_only_trainable_tensors_with_the_recipe():
    model = tiny()
    opt = build_optimizer(model, TrainConfig())
    params = opt.param_groups[0]["params"]
    assert {id(p) for p in params} == {id(p) for p in model.trainable_parameters()}
    assert not any(p is q for p in params for q in model.clip.parameters())
    group = opt.param_groups[0]
    assert group["betas"] == (0.9, 0.98) and group["eps"] == 1e-8 and group["weight_decay"] == 0.2


def test_warmup_then_cosine_schedule():
    f = WarmupCosine(warmup=2, total=6, min_ratio=0.0)
    expected = [0.5, 1.0, 1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5, 0.5 * (1 + math.cos(3 * math.pi / 4))]
    assert [round(f(s), 12) for s in range(6)] == [round(v, 12) for v in expected]
    assert f(6) == 0.0
    model = tiny()
    opt = build_optimizer(model, TrainConfig(lr=1.0))
    sched = build_scheduler(opt, TrainConfig(lr=1.0, epochs=2, warmup_epochs=0.5, min_lr=0.1), steps_per_epoch=4)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:2] == [0.5, 1.0] and lrs[2] == 1.0
    assert abs(lrs[-1] - (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 5 / 6)))) < 1e-9


def _one_step(motion, **config):
    model = tiny(0, drop_path=0.0, prompt_dropout=0.0)
    fit(
        model,
        motion,
        TrainConfig(**{"epochs": 1, "batch_size": 16, "lr": 1e-2, "warmup_steps": 0, **config}),
        class_texts=[[c] for c in motion.classes],
    )
    return model


def test_gradient_clipping_seed_and_motion_weight_are_applied(motion):
    def fc2_change(model):  # fc2 starts at zero, so its value is the update (Adam: about lr per element)
        return model.video_tower.adapters[0].fc2.weight.abs().mean().item()

    free = _one_step(motion)
    clipped = _one_step(motion, max_grad_norm=1e-12)  # gradients far below Adam's eps: tiny updates
    assert fc2_change(free) > 1e-3 and fc2_change(clipped) < 1e-5
    assert trainable_digest(_one_step(motion, seed=1)) == trainable_digest(_one_step(motion, seed=1))
    assert trainable_digest(_one_step(motion, seed=1)) != trainable_digest(_one_step(motion, seed=2))
    assert trainable_digest(_one_step(motion, motion_weight=0.0)) != trainable_digest(free)


def test_grad_checkpointing_option_trains_the_same_weights(motion):
    """TrainConfig(grad_checkpointing=True) switches it on in fit and changes memory, not results (dropout on:
    its masks are replayed when blocks are recomputed)."""

    def step(checkpointing):
        model = tiny(0)
        fit(
            model,
            motion,
            TrainConfig(epochs=1, batch_size=16, lr=1e-2, warmup_steps=0, grad_checkpointing=checkpointing),
            class_texts=[[c] for c in motion.classes],
        )
        return model

    plain, checkpointed = step(False), step(True)
    assert checkpointed.video_tower.grad_checkpointing and not plain.video_tower.grad_checkpointing
    pairs = zip(plain.trainable_named_parameters(), checkpointed.trainable_named_parameters(), strict=True)
    for (name, a), (_, b) in pairs:
        torch.testing.assert_close(b, a, msg=name)
    assert plain.video_tower.adapters[0].fc2.weight.abs().sum() > 0


def test_text_lr_sets_the_text_adapters_rate(motion):
    """``text_lr`` is a second parameter group of exactly the text adapters, under the same schedule; 0 freezes
    them (their fc2 stays at its zero start) while the video side trains, and the default is one group at ``lr``."""
    model = tiny()
    opt = build_optimizer(model, TrainConfig(lr=1.0, text_lr=0.25))
    video, text = opt.param_groups
    named = dict(model.trainable_named_parameters())
    assert {id(p) for p in text["params"]} == {id(p) for n, p in named.items() if n.startswith("text_tower.")}
    assert {id(p) for p in video["params"]} == {id(p) for n, p in named.items() if not n.startswith("text_tower.")}
    assert (video["lr"], text["lr"]) == (1.0, 0.25) and text["weight_decay"] == 0.2
    sched = build_scheduler(opt, TrainConfig(lr=1.0, epochs=1, warmup_steps=2), steps_per_epoch=4)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.125]  # the warm-up scales both groups alike
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.25]
    assert len(build_optimizer(model, TrainConfig()).param_groups) == 1

    frozen = _one_step(motion, text_lr=0.0)
    assert all(a.fc2.weight.abs().sum() == 0 for a in frozen.text_tower.adapters)
    assert frozen.video_tower.adapters[0].fc2.weight.abs().sum() > 0
    assert _one_step(motion).text_tower.adapters[0].fc2.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="text_lr must be >= 0"):
        TrainConfig(text_lr=-1e-4)


def test_bf16_autocast_trains_float32_weights(motion):
    model = _one_step(motion, precision="bf16")
    assert all(p.dtype == torch.float32 for p in model.trainable_parameters())
    assert model.video_tower.adapters[0].fc2.weight.abs().sum() > 0


def test_bad_settings_are_refused(motion):
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="does not fill one optimizer step"):
        fit(tiny(), motion, TrainConfig(batch_size=32), class_texts=[[c] for c in motion.classes])
    with pytest.raises(ValueError, match="class_texts has 3 classes"):
        fit(tiny(), motion, TrainConfig(batch_size=4), class_texts=[["a"], ["b"], ["c"]])
    with pytest.raises(ValueError, match="resuming needs output_dir"):
        fit(tiny(), motion, TrainConfig(batch_size=4), class_texts=[[c] for c in motion.classes], resume=True)
