"""``ezclip-zoo classify`` and ``ezclip-zoo embed``: tables, JSON, label files, batch output, errors, models."""

import json
import os
import subprocess
import sys

import pytest
import torch
from _helpers.video_data import make_video

import ezclip_zoo
from ezclip_zoo.cli import main
from ezclip_zoo.inference import read_jsonl


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(tmp_path / "cache"))  # the CLI's on-disk text cache


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_videos")
    paths = [make_video(d / "one.mp4", 30, keyframe_interval=10), make_video(d / "two.mp4", 18)]
    (d / "broken.mp4").write_bytes(b"\x00\x01" * 300)
    return d, paths


def tiny_seeded(seed=0):
    torch.manual_seed(seed)
    return ezclip_zoo.create_model("ezclip-test-tiny")


def test_table_output(videos, capsys):
    _, paths = videos
    code = main(
        ["classify", paths[0], "-m", "ezclip-test-tiny", "-l", "dancing", "-l", "juggling", "-l", "surfing", "-k", "2"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    expected = tiny_seeded().classify(paths[0], ["dancing", "juggling", "surfing"], topk=2)
    assert out.splitlines()[0] == paths[0]
    assert f"1. {expected.labels[0]}" in out and f"2. {expected.labels[1]}" in out
    assert "3." not in out
    assert "freshly initialised" in err  # an architecture name gives a random model, and says so


def test_json_output_and_errors_for_unreadable_files(videos, capsys):
    d, paths = videos
    code = main(["classify", *paths, str(d / "broken.mp4"), "-m", "ezclip-test-tiny", "-l", "a", "-l", "b", "--json"])
    out, err = capsys.readouterr()
    assert code == 1  # one video failed
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["source"] for r in records] == [*paths, str(d / "broken.mp4")]
    expected = tiny_seeded().classify(paths[1], ["a", "b"])
    assert records[1]["labels"] == expected.labels
    assert records[1]["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert records[2]["error_type"] == "VideoDecodeError" and "broken.mp4" in records[2]["error"]
    assert "1 failed" in err


def test_label_files(videos, tmp_path, capsys):
    _, paths = videos
    txt = tmp_path / "labels.txt"
    txt.write_text("# kinetics subset\ndancing\n\njuggling balls\n")
    js = tmp_path / "labels.json"
    js.write_text(json.dumps({"dancing": "a person dancing to music", "juggling": "someone juggling balls"}))
    csv = tmp_path / "labels.csv"
    csv.write_text("id,name,description\n0,dancing,a person dancing to music\n1,juggling,someone juggling balls\n")
    for path, names, texts in (
        (txt, ["dancing", "juggling balls"], None),
        (js, ["dancing", "juggling"], ["a person dancing to music", "someone juggling balls"]),
        (csv, ["dancing", "juggling"], ["a person dancing to music", "someone juggling balls"]),
    ):
        assert (
            main(["classify", paths[0], "-m", "ezclip-test-tiny", "--labels", str(path), "--json", "--all-classes"])
            == 0
        )
        record = json.loads(capsys.readouterr().out)
        assert sorted(record["all_probabilities"]) == sorted(names)
        expected = tiny_seeded().classify(paths[0], names, descriptions=texts)
        assert record["labels"] == expected.labels


def test_batch_output_resumes(videos, tmp_path, capsys):
    d, _ = videos
    out = tmp_path / "run.jsonl"
    args = ["classify", str(d), "-m", "ezclip-test-tiny", "-l", "a", "-l", "b", "-o", str(out)]
    assert main(args) == 1  # the broken file is reported, the others classified
    err = capsys.readouterr().err
    assert "2 classified, 1 failed" in err and str(out) in err
    assert len(read_jsonl(out)) == 3
    assert main(args) == 0
    assert "3 skipped" in capsys.readouterr().err
    assert len(read_jsonl(out)) == 3
    assert main(args + ["--overwrite"]) == 1


def test_usage_errors(videos, capsys):
    _, paths = videos
    assert main(["classify", paths[0], "-m", "ezclip-test-tiny"]) == 1
    assert "no class names" in capsys.readouterr().err
    assert main(["classify", paths[0], "-m", "ezclip-test-tiny", "-l", "a", "-l", "a"]) == 1
    assert "duplicate" in capsys.readouterr().err
    assert main(["classify", "-m", "ezclip-test-tiny", "-l", "a"]) == 1
    assert "no videos" in capsys.readouterr().err
    assert main(["classify", paths[0], "-m", "no-such-model", "-l", "a"]) == 1
    assert "no-such-model" in capsys.readouterr().err


def test_saved_model_folder(videos, tmp_path, capsys):
    _, paths = videos
    model = tiny_seeded(7)
    ezclip_zoo.save_pretrained(model, tmp_path / "my-model")
    assert main(["classify", paths[0], "-m", str(tmp_path / "my-model"), "-l", "a", "-l", "b", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    expected = ezclip_zoo.load(tmp_path / "my-model").classify(paths[0], ["a", "b"])
    assert record["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)


def test_bfloat16_and_templates(videos, capsys):
    _, paths = videos
    assert (
        main(
            [
                "classify",
                paths[0],
                "-m",
                "ezclip-test-tiny",
                "-l",
                "a",
                "-l",
                "b",
                "--dtype",
                "bfloat16",
                "--template",
                "actionclip",
                "--clips",
                "2",
                "--crops",
                "3",
                "--json",
            ]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert sum(record["probabilities"]) == pytest.approx(1.0, abs=1e-3) and len(record["frame_indices"]) == 2


def test_embed_videos_and_texts(videos, tmp_path, capsys):
    _, paths = videos
    out = tmp_path / "emb.jsonl"
    assert main(["embed", *paths, "-m", "ezclip-test-tiny", "-o", str(out)]) == 0
    records = read_jsonl(out)
    assert [r["source"] for r in records] == paths and len(records[0]["embedding"]) == 64
    assert main(["embed", "-m", "ezclip-test-tiny", "--text", "juggling", "--text", "dancing"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["text"] for x in lines] == ["juggling", "dancing"]
    vector = torch.tensor(lines[0]["embedding"])
    with torch.no_grad():
        expected = torch.nn.functional.normalize(tiny_seeded().encode_text(["juggling"]), dim=-1)[0]
    torch.testing.assert_close(vector, expected, atol=1e-5, rtol=0)


@pytest.mark.subprocess
@pytest.mark.slow
def test_console_script_runs(videos):
    _, paths = videos
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "ezclip_zoo.cli", "classify", paths[1], "-m", "ezclip-test-tiny", "-l", "a", "-l", "b"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(paths[1])
