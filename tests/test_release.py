"""A release a stranger can install: the wheel and sdist build and pass ``twine check``, the wheel carries the
package data and no tests, and installed into a fresh virtual environment it runs the command line and a
classification from that environment, not from this checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("ezclip_zoo-*.whl")
    return wheel


def test_the_distributions_pass_twine_check(dist):
    files = sorted(str(p) for p in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files)
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_wheel_holds_the_package_data_the_licence_and_no_tests(dist):
    names = zipfile.ZipFile(_wheel(dist)).namelist()
    for data in ("ezclip_zoo/checkpoints.json", "ezclip_zoo/py.typed", "ezclip_zoo/text/class_set_data/ucf101.json"):
        assert data in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n or "conftest" in n]
    metadata = zipfile.ZipFile(_wheel(dist)).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata  # PEP 639
    assert "Requires-Dist: open_clip_torch<4,>=2.29" in metadata


def test_the_wheel_installed_in_a_fresh_venv_runs_the_command_line_and_classifies(dist, tmp_path):
    env_dir = tmp_path / "venv"
    # system site packages: torch and the other dependencies come from this environment, not a download
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(_wheel(dist))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = subprocess.run(
        [str(python), "-c", "import ezclip_zoo, json; print(json.dumps(ezclip_zoo.__file__))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
    )
    assert where.returncode == 0, where.stderr
    assert Path(json.loads(where.stdout)).resolve().is_relative_to(env_dir.resolve()), where.stdout

    cli = env_dir / "bin" / "ezclip-zoo"
    for argv in (["--help"], ["list"]):
        proc = subprocess.run([str(cli), *argv], capture_output=True, text=True, cwd=tmp_path, env=clean)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ezclip-b16-k400" in proc.stdout and "ezclip-test-tiny" in proc.stdout

    from ezclip_zoo.video import write_video

    video = tmp_path / "clip.mp4"
    frames = np.zeros((16, 64, 64, 3), dtype=np.uint8)
    frames[:, :, ::4] = 255  # stripes, so the clip is not blank
    write_video(video, frames, fps=8)
    proc = subprocess.run(
        [str(cli), "classify", str(video), "-m", "ezclip-test-tiny", "-l", "stripes", "-l", "dots", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(record["labels"]) == ["dots", "stripes"]
    assert sum(record["probabilities"]) == pytest.approx(1.0, abs=1e-4)
