"""Shared fixtures. No network here: the Hub is put offline before huggingface_hub is first imported."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # huggingface_hub reads this at import time
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray (the ray engine tests) never reports home
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("EZCLIP_KERNELS", "default")  # no kernel timing: results never depend on a measurement
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
    """One line, even under ``-q``, when the authors' fixtures were missing: where they were looked for; and one on
    the background jobs, when some ran."""
    background = config.stash.get(background_key, None)
    if background is not None:
        terminalreporter.write_line(background.summary())
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
def motion_model():
    """A tiny EZ-CLIP trained on windows of long synthetic videos (moving right / left / staying still), shipped in
    tests/data/motion_model (checked by its sha256) rather than trained here: the recipe takes about 2 minutes.
    tests/test_motion_model.py retrains it, and with seeds 0-4, under the `slow` marker."""
    from _helpers.trained_motion import MODEL_DIR, check_shipped_weights

    from ezclip_zoo.synthetic.motion_models import load_motion_model

    check_shipped_weights(MODEL_DIR)
    return load_motion_model(MODEL_DIR)


background_key = pytest.StashKey["object"]()


def pytest_collection_modifyitems(session, config, items):
    """Tests that check a background job's result last: the jobs run while the rest of the suite does."""
    items.sort(key=lambda item: item.get_closest_marker("background") is not None)


def pytest_collection_finish(session):
    """Start the ``background`` markers' commands of the selected tests (`_helpers.background`)."""
    from _helpers.background import Background, background_jobs

    jobs = background_jobs(session.items)
    if jobs and not session.config.option.collectonly:
        session.config.stash[background_key] = Background(jobs)


def pytest_sessionfinish(session):
    background = session.config.stash.get(background_key, None)
    if background is not None:
        background.stop()


@pytest.fixture(scope="session")
def background(request):
    """The `_helpers.background.Background` running the selected tests' ``background`` jobs: ``folder(name)``,
    ``output(name)``."""
    return request.config.stash[background_key]
