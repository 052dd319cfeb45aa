"""Shared fixtures. No network here: the Hub is put offline before huggingface_hub is first imported."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # huggingface_hub reads this at import time
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray (the ray engine tests) never reports home
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# the zoo cache of the whole run is a fresh folder, never the user's ~/.cache/ezclip_zoo
import tempfile  # noqa: E402

os.environ["EZCLIP_ZOO_CACHE"] = tempfile.mkdtemp(prefix="ezclip-zoo-cache-")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from _helpers.paths import REPO_ROOT  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One intra-op thread for the whole suite: float results that depend on the thread count stay the same on
    every machine, and the tests' tiny tensors run faster without thread wake-ups on a busy 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _parity_dir() -> Path | None:
    env = os.environ.get("EZCLIP_PARITY_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "parity")
    for path in candidates:
        if (path / "official_checkpoint.pt").is_file():
            return path
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line, even under ``-q``, when the authors' fixtures were missing: where they were looked for."""
    if _parity_dir() is None:
        looked = os.environ.get("EZCLIP_PARITY_DIR") or str(REPO_ROOT.parent / "shared" / "parity")
        skipped = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(
            f"parity fixtures not found at {looked}: {skipped} tests that compare with the authors' code skipped "
            "(set EZCLIP_PARITY_DIR to the folder holding official_checkpoint.pt)"
        )


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    """The authors' parity fixtures: required on CI, skipped with a reason elsewhere when absent."""
    path = _parity_dir()
    if path is None:
        looked = os.environ.get("EZCLIP_PARITY_DIR") or str(REPO_ROOT.parent / "shared" / "parity")
        reason = f"parity fixtures not found at {looked}: set EZCLIP_PARITY_DIR or place them there"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def parity_ref(parity_dir):
    from safetensors.torch import load_file

    return load_file(str(parity_dir / "inputs_outputs.safetensors"))


@pytest.fixture(scope="session")
def parity_meta(parity_dir):
    return json.loads((parity_dir / "meta.json").read_text())


@pytest.fixture(scope="session")
def parity_model(parity_dir):
    import ezclip_zoo

    return ezclip_zoo.load_official_checkpoint(parity_dir / "official_checkpoint.pt")


@pytest.fixture
def tiny_model():
    """The smallest registered architecture, random backbone, deterministic (seed 0); `_helpers.models.tiny` builds
    it with another seed or options."""
    from _helpers.models import tiny

    return tiny(0)


@pytest.fixture(scope="session")
def motion_model(request):
    """A tiny EZ-CLIP trained on windows of long synthetic videos (moving right / left / staying still): about
    a minute of training on one thread, once; its weights are kept in pytest's cache keyed by seed, steps and torch.

    800 steps, not fewer: at 500 the model was so barely trained that float rounding in training (the order of a
    GEMM's additions) decided whether a 0.58-probability false segment appeared; at 800 every segment it finds in
    the localisation test scores above 0.99."""
    from safetensors.torch import load_file, save_file

    import ezclip_zoo
    from ezclip_zoo.synthetic.motion_models import WINDOW_STEPS, train_window_model

    steps, seed = WINDOW_STEPS, 0
    key = f"ezclip_motion_model-{seed}-{steps}-torch{torch.__version__}".replace("+", "_")
    weights = request.config.cache.mkdir(key) / "trainable.safetensors"
    if weights.is_file():
        torch.manual_seed(seed)
        model = ezclip_zoo.create_model("ezclip-demo-motion", pretrained_backbone=False)
        model.load_trainable_state_dict(load_file(str(weights)))
        return model.eval()
    model = train_window_model(seed, steps)
    save_file({k: v.contiguous() for k, v in model.trainable_state_dict().items()}, str(weights))
    return model
