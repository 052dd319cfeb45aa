"""The trained tiny motion model that the localisation and search tests measure against known truth ships in
tests/data/motion_model (checked by its sha256). Under the `slow` marker, the command that made it runs anew for
seeds 0-4, and every model must pass the assertions those tests make (`_helpers.trained_motion`): the recipe, not
one lucky seed, is what they test."""

import json
import sys

import pytest
from _helpers.trained_motion import (
    MODEL_DIR,
    REGENERATE_COMMAND,
    SEED,
    check_localization,
    check_search,
    check_shipped_weights,
    write_motion_folder,
)

from ezclip_zoo.synthetic.motion_models import (
    RECIPE_NAME,
    WINDOW_LR,
    WINDOW_STEPS,
    WINDOW_TEXT_LR,
    load_motion_model,
)

SEEDS = range(5)


def _retrained(seed: int):
    """Seed ``seed`` as a test parameter whose model the regeneration command trains in the background."""
    command = [sys.executable, "-m", "ezclip_zoo.synthetic.motion_models", "{out}", "--seed", str(seed)]
    return pytest.param(seed, marks=pytest.mark.background(f"motion-model-seed{seed}", command))


def test_the_shipped_model_is_the_recipe_at_its_seed():
    check_shipped_weights(MODEL_DIR)
    recipe = json.loads((MODEL_DIR / RECIPE_NAME).read_text())
    assert (recipe["seed"], recipe["steps"]) == (SEED, WINDOW_STEPS), recipe
    assert (recipe["lr"], recipe["text_lr"]) == (WINDOW_LR, WINDOW_TEXT_LR), recipe
    assert recipe["made_by"] == REGENERATE_COMMAND


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("seed", [_retrained(seed) for seed in SEEDS])
def test_any_seed_of_the_recipe_passes_the_assertions(seed, background, tmp_path):
    """The regeneration command runs for each seed (a ``background`` job: it starts at collection, beside the
    rest of the suite). Seed 0 is the shipped model's command (`REGENERATE_COMMAND`) run anew: its result passes
    what the tests assert of the shipped one. Its bytes may differ from the shipped ones on another CPU (the order
    of a GEMM's additions), so they are not compared."""
    folder = background.folder(f"motion-model-seed{seed}")
    recipe = json.loads((folder / RECIPE_NAME).read_text())
    assert (recipe["seed"], recipe["steps"]) == (seed, WINDOW_STEPS)
    model = load_motion_model(folder)
    check_localization(model)
    (tmp_path / "clips").mkdir()
    check_search(model, *write_motion_folder(tmp_path / "clips"), tmp_path / "lib")
    if seed == SEED:  # the same seed draws the same random backbone as the shipped model's
        shipped = json.loads((MODEL_DIR / RECIPE_NAME).read_text())
        assert recipe["backbone_sha256"] == shipped["backbone_sha256"]
