"""`ezclip_zoo.load`, the one door to a model by name: its order of look-up, architectures seeded without the
global RNG, and names that cannot collide."""

import os
import warnings

import pytest
import torch

import ezclip_zoo
from ezclip_zoo.errors import UnknownNameError, UntrainedModelWarning

TINY = "ezclip-test-tiny"


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a, b) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_an_architecture_name_gives_a_fresh_model_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ezclip_zoo.load(TINY)
    untrained = [w for w in caught if issubclass(w.category, UntrainedModelWarning)]
    assert len(untrained) == 1 and "mean nothing until it is trained" in str(untrained[0].message)
    assert untrained[0].filename == __file__  # points at the caller's line, not into the package
    assert not model.training and model.dtype == torch.float32 and model.device.type == "cpu"
    assert model.config.name == TINY


def test_the_seed_decides_the_weights_and_the_global_rng_is_untouched():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with pytest.warns(UntrainedModelWarning):
        a = ezclip_zoo.load(TINY, seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)  # neither read into nor advanced
    torch.manual_seed(999)  # another global state: the same seed still gives the same model
    with pytest.warns(UntrainedModelWarning):
        b = ezclip_zoo.load(TINY, seed=5)
        c = ezclip_zoo.load(TINY, seed=6)
    assert _same(a, b) and not _same(a, c)
    # the same draws as the explicit builder under torch.manual_seed (so indexes and runs made before still load)
    torch.manual_seed(5)
    assert _same(a, ezclip_zoo.create_model(TINY))


def test_architecture_options_apply_and_checkpoints_refuse_them(tmp_path):
    with pytest.warns(UntrainedModelWarning):
        model = ezclip_zoo.load(TINY, overrides={"num_frames": 4}, dtype=torch.bfloat16, pretrained_backbone=False)
    assert model.num_frames == 4 and model.dtype == torch.bfloat16
    folder = ezclip_zoo.save_pretrained(model, tmp_path / "m")
    assert ezclip_zoo.load(folder).num_frames == 4
    with pytest.raises(ValueError, match="apply to architectures"):
        ezclip_zoo.load(folder, overrides={"num_frames": 8})
    with pytest.raises(ValueError, match="apply to architectures"):
        ezclip_zoo.load(folder, pretrained_backbone=False)


def test_a_local_folder_comes_before_an_architecture_of_the_same_name(tmp_path, monkeypatch):
    with pytest.warns(UntrainedModelWarning):
        trained = ezclip_zoo.load(TINY, seed=3)
    ezclip_zoo.save_pretrained(trained, tmp_path / TINY, adapter_dtype=torch.float32)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedModelWarning)  # the folder is a trained checkpoint: no warning
        loaded = ezclip_zoo.load(TINY)
    assert _same(loaded, trained)
    monkeypatch.chdir(os.path.dirname(__file__))
    with pytest.warns(UntrainedModelWarning):
        assert not _same(ezclip_zoo.load(TINY), trained)  # seed 0, not the folder's


def test_an_unknown_name_lists_checkpoints_and_architectures():
    with pytest.raises(UnknownNameError) as info:
        ezclip_zoo.load("ezclip-test-tyni")
    message = str(info.value)
    assert "did you mean 'ezclip-test-tiny'" in message
    assert "ezclip-b16-k400" in message and "ezclip-vit-b16" in message


def test_a_name_cannot_be_both_a_checkpoint_and_an_architecture():
    with pytest.raises(ValueError, match="already a checkpoint name"):
        ezclip_zoo.register_model("ezclip-b16-k400", ezclip_zoo.get_model_config(TINY).to_dict())
    with pytest.raises(ValueError, match="already an architecture name"):
        ezclip_zoo.register_pretrained(TINY, {"architecture": TINY, "hf_hub_id": "me/x"})
    assert TINY not in ezclip_zoo.list_pretrained() and "ezclip-b16-k400" not in ezclip_zoo.list_models()
