"""Class sets: the six dataset class lists offline, the authors' descriptions over a local HTTP server (pinned
sha256), classify with a class-set name, and the errors."""

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch
from _helpers.servers import LocalServer
from test_zoo_downloads import _env, drive

import ezclip_zoo
from ezclip_zoo.errors import UnknownNameError, WeightsUnavailableError
from ezclip_zoo.text.class_sets import _USER, descriptions_path, get_class_set
from ezclip_zoo.text.names import readable_class_name

EXPECTED = {  # name: (count, first readable, last readable)
    "kinetics400": (400, "abseiling", "zumba"),
    "kinetics600": (600, "abseiling", "zumba"),
    "kinetics600-novel": (232, "swinging baseball bat", None),
    "ucf101": (101, "apply eye makeup", "yo yo"),
    "hmdb51": (51, "brush hair", "wave"),
    "ssv2": (174, "Approaching something with your camera", "Wiping something off of something"),
}


@pytest.fixture(scope="module")
def texts_dir():
    path = Path(__file__).resolve().parents[2] / "shared" / "authors-class-texts"
    if not path.is_dir():
        pytest.skip("../shared/authors-class-texts not found")
    return path


def _csv_file(name: str) -> str:
    return Path(get_class_set(name)["descriptions"]["url"]).name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_class_sets_load_offline_in_index_order(name):
    count, first, last = EXPECTED[name]
    names, raw = ezclip_zoo.class_names(name), ezclip_zoo.class_names(name, raw=True)
    assert len(names) == len(set(names)) == count and names[0] == first and (last is None or names[-1] == last)
    assert names == [readable_class_name(r) for r in raw]  # readable by the data module's one rule
    assert name in ezclip_zoo.list_class_sets()


def test_raw_identifiers_are_kept_and_orders_are_the_datasets():
    assert ezclip_zoo.class_names("ucf101", raw=True)[:3] == ["ApplyEyeMakeup", "ApplyLipstick", "Archery"]
    hmdb = ezclip_zoo.class_names("hmdb51", raw=True)
    assert hmdb == sorted(hmdb) and "kick_ball" in hmdb  # the split files' identifiers, alphabetically
    k600 = ezclip_zoo.class_names("kinetics600")
    assert k600 == sorted(k600)  # the official label order; the authors' CSV lists them otherwise
    novel = set(ezclip_zoo.class_names("kinetics600-novel"))
    assert novel <= set(k600) and len(novel & set(ezclip_zoo.class_names("kinetics400"))) < len(novel)
    assert ezclip_zoo.class_names("K400") == ezclip_zoo.class_names("kinetics400")  # aliases


def test_unknown_class_set_gives_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean 'kinetics400'") as info:
        ezclip_zoo.class_names("kinetics40")
    assert isinstance(info.value, (KeyError, ValueError, TypeError))


@pytest.mark.slow
def test_descriptions_from_a_local_server_match_the_pinned_sha256(tmp_path, texts_dir):
    server = LocalServer()
    try:
        file = _csv_file("hmdb51")
        server.files[f"/mirror/{file}"] = (texts_dir / file).read_bytes()
        entry = get_class_set("hmdb51")
        entry["descriptions"]["url"] = f"{server.url}/mirror/{file}"
        cache = tmp_path / "zoo"
        result = drive(tmp_path, cache, class_sets={"hmdb51": entry}, action="descriptions", name="hmdb51")
        assert result.get("ok"), result
        assert result["count"] == 51 and result["first"][0] == "brush hair" and result["first"][1].strip()
        cached = list((cache / "class_texts").iterdir())
        assert len(cached) == 1 and cached[0].read_bytes() == (texts_dir / file).read_bytes()

        # another file under the same URL: refused, and nothing is cached
        other_cache = tmp_path / "zoo2"
        server.files[f"/mirror/{file}"] = (texts_dir / file).read_bytes().replace(b"brush hair", b"brush  hair")
        result = drive(tmp_path, other_cache, class_sets={"hmdb51": entry}, action="descriptions", name="hmdb51")
        assert result["error"] == "ChecksumError" and entry["descriptions"]["sha256"] in result["message"], result
        assert not any((other_cache / "class_texts").iterdir())
    finally:
        server.stop()


@pytest.mark.slow
def test_a_mirror_folder_url_serves_every_set(tmp_path, texts_dir):
    server = LocalServer()
    try:
        for name in ("ucf101", "kinetics600-novel"):
            server.files[f"/texts/{_csv_file(name)}"] = (texts_dir / _csv_file(name)).read_bytes()
        cache = tmp_path / "zoo"
        env = _env(cache, EZCLIP_ZOO_CLASS_TEXTS_URL=f"{server.url}/texts/")
        for name, count in (("ucf101", 101), ("kinetics600-novel", 232)):
            result = drive(tmp_path, cache, env=env, action="descriptions", name=name)
            assert result.get("ok") and result["count"] == count, result
    finally:
        server.stop()


def test_offline_with_nothing_cached_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(tmp_path / "zoo"))
    with pytest.raises(WeightsUnavailableError) as info:
        ezclip_zoo.class_descriptions("ucf101")
    assert "ezclip-zoo download" in str(info.value) and "text='names'" in str(info.value)
    assert len(str(info.value).splitlines()) == 1


@pytest.fixture
def cached_descriptions(tmp_path, monkeypatch, texts_dir):
    """The zoo cache with the authors' CSVs in place (as a download leaves them)."""
    monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(tmp_path / "zoo"))
    for name in EXPECTED:
        path = descriptions_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(texts_dir / _csv_file(name), path)
    return texts_dir


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_class_of_every_set_has_its_description(cached_descriptions, name):
    described = ezclip_zoo.class_descriptions(name)
    assert list(described) == ezclip_zoo.class_names(name)
    assert all(d and "\n" not in d for d in described.values())


def test_a_class_without_a_description_is_an_error(cached_descriptions):
    entry = get_class_set("ucf101")
    entry["classes"] = entry["classes"] + ["MoonWalking"]
    ezclip_zoo.register_class_set("ucf101-plus", entry)
    try:
        descriptions_path("ucf101-plus").write_bytes(descriptions_path("ucf101").read_bytes())
        with pytest.raises(ValueError, match="no description for \\['moon walking'\\]"):
            ezclip_zoo.class_descriptions("ucf101-plus")
    finally:
        _USER.pop("ucf101-plus", None)


@pytest.fixture
def described_model(parity_dir, tmp_path):
    """A converted checkpoint whose config records the authors' text mode (descriptions)."""
    from ezclip_zoo.zoo.checkpoint_table import USER_ENTRIES as _USER_ENTRIES
    from ezclip_zoo.zoo.conversion import convert_official

    entry = dict(ezclip_zoo.get_pretrained_entry("ezclip-b16-k400"), architecture="ezclip-test-tiny")
    ezclip_zoo.register_pretrained("tiny-described", entry)
    try:
        report = convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "m", name="tiny-described")
    finally:
        _USER_ENTRIES.pop("tiny-described", None)
    model = ezclip_zoo.load(report.folder)
    assert model.config.extra["text"]["mode"] == "descriptions"
    return model


def test_classify_with_a_class_set_uses_the_checkpoints_descriptions(cached_descriptions, described_model):
    frames = torch.rand(16, 64, 64, 3)
    by_set = described_model.classify(frames, "ucf101", topk=3)
    with open(cached_descriptions / _csv_file("ucf101"), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    by_hand = {readable_class_name(r[1]): " ".join(r[2].split()) for r in rows}
    manual = described_model.classify(frames, by_hand, topk=3)
    torch.testing.assert_close(by_set.all_probabilities, manual.all_probabilities)
    assert by_set.class_names == tuple(ezclip_zoo.class_names("ucf101")) and by_set.text == "descriptions of ucf101"

    names = described_model.classify(frames, "ucf101", text="names", topk=3)
    plain = described_model.classify(frames, ezclip_zoo.class_names("ucf101"), topk=3)
    torch.testing.assert_close(names.all_probabilities, plain.all_probabilities)
    assert names.text == "names of ucf101"
    assert not torch.allclose(names.all_probabilities, by_set.all_probabilities)  # the text really changed


def test_cli_class_set(tmp_path, capsys):
    from _helpers.video_data import make_video

    from ezclip_zoo.cli import main

    video = make_video(tmp_path / "v.mp4", 24)
    assert main(["classify", video, "-m", "ezclip-test-tiny", "--class-set", "hmdb51", "--json", "-k", "2"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["text"] == "names of hmdb51" and set(record["labels"]) <= set(ezclip_zoo.class_names("hmdb51"))
    assert main(["classify", video, "-m", "ezclip-test-tiny", "--class-set", "hmdb5"]) == 1
    assert "did you mean 'hmdb51'" in capsys.readouterr().err


def test_text_names_wins_over_descriptions_however_given(tiny_model):
    model = tiny_model
    frames = torch.rand(8, 64, 64, 3)
    names = ezclip_zoo.class_names("hmdb51")
    own = [f"a person doing {n} in a video" for n in names]
    described = model.classify(frames, "hmdb51", descriptions=own)
    assert described.text == "descriptions of hmdb51"
    by_list = model.classify(frames, names, descriptions=own)
    torch.testing.assert_close(described.all_probabilities, by_list.all_probabilities)
    plain = model.classify(frames, "hmdb51", descriptions=own, text="names")
    assert plain.text == "names of hmdb51"
    torch.testing.assert_close(plain.all_probabilities, model.classify(frames, names).all_probabilities)
    assert not torch.allclose(plain.all_probabilities, described.all_probabilities)
