"""Export and the torch-free runtime for every backbone family (issue 33, item 3): ONNX and ``torch.export`` of
both encoders within 1e-4 of eager on the tiny configs of every family (`_helpers.families`), the manifest's
preprocessing and tokenizer, the runtime's Hugging Face tokenizer (the ``tokenizers`` package) giving open_clip's
``HFTokenizer`` ids, open_clip's cleaning reimplemented exactly, and clear refusals of what the runtime cannot do."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _helpers.families import FAMILY_CONFIGS, WORDS, family_model
from _helpers.models import randomize_trainable
from _helpers.paths import REPO_ROOT

from ezclip_zoo.errors import TextTruncatedWarning
from ezclip_zoo.export import export_model
from ezclip_zoo.export.text_tokenizer import write_tokenizer
from ezclip_zoo.runtime import OnnxModel
from ezclip_zoo.runtime.hf_tokenizer import HuggingFaceTokenizer
from ezclip_zoo.runtime.tokenizer import CLEAN_KINDS, ClipTokenizer, clean_text
from ezclip_zoo.text.tokenizer import get_tokenizer

TOLERANCE = 1e-4
FAST_FAMILY = "openai-gelu"  # its torch.export round trip runs in about 2 s: the one export in the non-slow set
TEXTS = ["a person is dancing", "Riding_a bike!", "playing guitar in the video", "juggling &amp; swimming"]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("siglip_tokenizer")


def many_texts(n: int = 600, seed: int = 0) -> list[str]:
    """Texts of the tiny tokenizer's words and others, with case, punctuation, underscores, HTML entities, unicode,
    odd whitespace, and lengths from 1 word to far past a 16-token context."""
    rng = random.Random(seed)
    extras = ["Dancing!", "JUGGLING", "riding_a_bike", "left-right", "&amp;", "&lt;b&gt;", "café", "naïve", "—"]
    extras += ["“quoted”", "x2", "123", "don't", "it's", "\t", "  ", "\u00a0", "_", "unknownword", "Ünïcödé"]
    texts = []
    for i in range(n):
        length = rng.choice([1, 2, 3, 5, 8, 13, 14, 15, 16, 17, 30]) if i % 10 else rng.randint(40, 80)
        pool = WORDS + extras
        texts.append(" ".join(rng.choice(pool) for _ in range(length)))
    return texts + ["", "   ", "_", "!!!"]


def fake_model(name: str, kwargs: dict | None, context: int = 16, tokenize=None) -> SimpleNamespace:
    """What `write_tokenizer` reads of a model: its backbone's tokenizer and options, context and eager tokenizer."""
    eager = get_tokenizer(name, kwargs)
    return SimpleNamespace(
        config=SimpleNamespace(name="tiny-text", backbone=SimpleNamespace(tokenizer=name, tokenizer_kwargs=kwargs)),
        family="timm-vit",
        context_length=context,
        tokenize=tokenize or (lambda texts: eager(texts, context)),
    )


# ---------------------------------------------------------------- tokenizers and cleaning (fast)


@pytest.mark.parametrize("kind", CLEAN_KINDS)
def test_the_cleaning_is_open_clips(kind):
    from open_clip.tokenizer import get_clean_fn

    reference = get_clean_fn(kind)
    for text in many_texts(300, seed=1) + ["A_B_C", "Hello,   World!!", "&amp;amp;", "it’s — “x”", "\n\tx\r\n"]:
        assert clean_text(text, kind) == reference(text), text


@pytest.mark.parametrize(
    "kwargs",
    [{"clean": "canonicalize"}, {"clean": "whitespace"}, {"clean": "lower"}, None, {"strip_sep_token": True}],
    ids=lambda k: json.dumps(k),
)
def test_the_runtime_hugging_face_tokenizer_gives_open_clips_ids(kwargs, tokenizer_dir, tmp_path):
    """604 texts, about a fifth of them longer than the 16-token context: the ids of the exported tokenizer.json,
    run by the ``tokenizers`` package with the manifest's settings, equal open_clip's HFTokenizer's."""
    family_model("siglip2", tokenizer_dir)  # writes the tiny tokenizer folder
    folder = tokenizer_dir
    if kwargs and kwargs.get("strip_sep_token"):  # a tokenizer with a separator token (here its EOS) to strip
        folder = tmp_path / "with_sep"
        shutil.copytree(tokenizer_dir, folder)
        config = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "tokenizer_config.json").write_text(json.dumps({**config, "sep_token": "<eos>"}))
    model = fake_model(str(folder), kwargs)
    (tmp_path / "export").mkdir()
    entry, files = write_tokenizer(model, tmp_path / "export")
    assert files == ["tokenizer.json"] and entry["kind"] == "hugging-face"
    assert (entry["padding"], entry["truncation"], entry["context_length"]) == ("max_length", True, 16)
    assert entry["clean"] == (kwargs or {}).get("clean", "whitespace")
    runtime = HuggingFaceTokenizer.from_manifest(tmp_path / "export", entry)
    eager = get_tokenizer(str(folder), kwargs)
    texts = many_texts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = eager(texts, 16).numpy()
        got = runtime(texts)
    assert got.dtype == np.int64 and got.shape == (len(texts), 16)
    np.testing.assert_array_equal(got, expected)
    lengths = np.array([len(e.ids) for e in runtime._full.encode_batch([clean_text(t, entry["clean"]) for t in texts])])
    truncated = lengths > 16
    assert truncated.sum() > 100, truncated.sum()
    if kwargs and kwargs.get("strip_sep_token"):
        assert entry["strip_sep_id"] == 1 and not (got == 1).any()
    else:
        assert entry["strip_sep_id"] is None and (got[truncated, -1] == 1).all()  # the EOS kept, as transformers does


def test_the_truncation_warning_is_the_eager_one(tokenizer_dir, tmp_path):
    family_model("siglip2", tokenizer_dir)
    kwargs = {"clean": "canonicalize"}
    entry, _ = write_tokenizer(fake_model(str(tokenizer_dir), kwargs), tmp_path)
    runtime = HuggingFaceTokenizer.from_manifest(tmp_path, entry)
    eager = get_tokenizer(str(tokenizer_dir), kwargs)
    texts = ["a person is dancing", " ".join(WORDS), "juggling", " ".join(WORDS * 2)]
    for tokenize in (lambda: runtime(texts), lambda: eager(texts, 16)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tokenize()
        assert [w.category for w in caught] == [TextTruncatedWarning]
        messages = [str(w.message) for w in caught]
        assert messages[0].startswith("2 of 4 texts are longer than the context of 16 tokens")
        assert str(tokenizer_dir) in messages[0]
    lengths = [len(e.ids) for e in runtime._full.encode_batch([clean_text(t, "canonicalize") for t in texts])]
    assert messages[0] == str(TextTruncatedWarning.of(texts, lengths, 16, str(tokenizer_dir)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runtime(texts[::2])  # nothing truncated: no warning


def test_a_clip_bpe_clean_option_is_recorded_and_tokenized_as_open_clip_does(tmp_path):
    kwargs = {"clean": "canonicalize"}
    entry, files = write_tokenizer(fake_model("clip", kwargs, context=20), tmp_path)
    assert files == ["bpe_simple_vocab_16e6.txt.gz"]
    assert (entry["kind"], entry["clean"]) == ("clip-bpe", "canonicalize")
    texts = many_texts(200, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = get_tokenizer("clip", kwargs)(texts, 20).numpy()
        got = ClipTokenizer(tmp_path / files[0], 20, entry["clean"])(texts)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("name", "kwargs", "says"),
    [
        (None, {"tokenizer_mode": "clips"}, "tokenizer_mode='clips'"),
        ("clip", {"reduction_mask": "simple"}, r"CLIP tokenizer options \['reduction_mask'\]"),
    ],
)
def test_what_the_runtime_cannot_tokenize_is_refused_naming_why(name, kwargs, says, tokenizer_dir, tmp_path):
    family_model("siglip2", tokenizer_dir)
    model = fake_model(name or str(tokenizer_dir), {} if name is None else None, tokenize=lambda texts: None)
    model.config.backbone.tokenizer_kwargs = kwargs
    with pytest.raises(ValueError, match=rf"cannot export 'tiny-text' \(family timm-vit\).*{says}"):
        write_tokenizer(model, tmp_path)


def test_an_export_whose_runtime_would_tokenize_otherwise_is_refused(tokenizer_dir, tmp_path):
    family_model("siglip2", tokenizer_dir)
    eager = get_tokenizer(str(tokenizer_dir), {"clean": "canonicalize"})
    model = fake_model(str(tokenizer_dir), {"clean": "lower"}, tokenize=lambda texts: eager(texts, 16))
    with pytest.raises(ValueError, match=r"family timm-vit.*the runtime's tokenization .* differs from the eager"):
        write_tokenizer(model, tmp_path)


# ---------------------------------------------------------------- every family, both formats


def _case(family: str, format: str):
    fast = family == FAST_FAMILY and format == "torch-export"
    return pytest.param(family, format, id=f"{family}-{format}", marks=() if fast else pytest.mark.slow)


def _eager(model, frames: torch.Tensor, tokens: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        video = F.normalize(model.encode_video(frames), dim=-1).numpy()
        text = F.normalize(model.encode_text(tokens), dim=-1).numpy()
    return video, text


@pytest.mark.parametrize(
    ("family", "format"), [_case(f, fmt) for f in FAMILY_CONFIGS for fmt in ("onnx", "torch-export")]
)
def test_both_encoders_export_within_1e4_of_eager(family, format, tokenizer_dir, tmp_path):
    model = family_model(family, tokenizer_dir, seed=3)
    randomize_trainable(model, seed=3)
    model.eval()
    manifest = json.loads(export_model(model, tmp_path, format=format).read_text())
    frames = torch.randn(3, 4, 3, 32, 32, generator=torch.Generator().manual_seed(5))  # another batch than traced
    texts = [*TEXTS, " ".join(WORDS * 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TextTruncatedWarning)
        tokens = model.tokenize(texts)
    video, text = _eager(model, frames, tokens)
    if format == "onnx":
        runtime = OnnxModel(tmp_path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TextTruncatedWarning)
            np.testing.assert_array_equal(runtime.tokenize(texts), tokens.numpy())
            got_text = runtime.encode_text(texts)
        got_video = runtime.encode_video(frames.numpy())
    else:
        with torch.no_grad():
            got_video = torch.export.load(str(tmp_path / "video_encoder.pt2")).module()(frames).numpy()
            got_text = torch.export.load(str(tmp_path / "text_encoder.pt2")).module()(tokens).numpy()
    diffs = float(np.abs(got_video - video).max()), float(np.abs(got_text - text).max())
    print(f"\n{family} {format}: video max|d| {diffs[0]:.1e}, text max|d| {diffs[1]:.1e}")
    assert max(diffs) < TOLERANCE, diffs
    # the manifest records the model's family, preprocessing and tokenizer
    backbone = model.config.backbone
    assert manifest["family"] == model.family and manifest["context_length"] == model.context_length
    for key in ("mean", "std", "interpolation", "resize_mode"):
        if key in (backbone.preprocess or {}):
            assert manifest["preprocess"][key] == pytest.approx(backbone.preprocess[key]), key
    expected_kind = "clip-bpe" if (backbone.tokenizer or "clip") == "clip" else "hugging-face"
    assert manifest["tokenizer"]["kind"] == expected_kind
    assert manifest["tokenizer"]["context_length"] == model.context_length
    if family == "pe-core":
        assert manifest["preprocess"]["mean"] == [0.5] * 3 and manifest["preprocess"]["std"] == [0.5] * 3
        preprocess = manifest["preprocess"]
        assert (preprocess["resize_mode"], preprocess["interpolation"]) == ("squash", "bilinear")
    if family == "siglip2":
        assert manifest["tokenizer"]["clean"] == "canonicalize" and "tokenizer.json" in manifest["files"]
        assert manifest["encoders"]["text"]["pool"] == "last" and manifest["encoders"]["text"]["causal"] is False


# ---------------------------------------------------------------- the SigLIP-like model in the runtime

NO_TORCH = """
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "open_clip", "timm", "transformers"):
            raise ImportError(f"{name} is blocked: this process runs without PyTorch")
        return None
sys.meta_path.insert(0, _NoTorch())
"""


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_siglip_like_model_classifies_in_the_runtime_as_eager(tokenizer_dir, tmp_path):
    """classify (exported classes and new names), encode_text and encode_video of the runtime equal eager's, in
    this process and in one where torch, open_clip and transformers cannot be imported."""
    from ezclip_zoo.video import write_video

    model = family_model("siglip2", tokenizer_dir, seed=6)
    randomize_trainable(model, seed=6)
    model.eval()
    classes = ["dancing", "juggling", "riding a bike", "playing guitar"]
    export_model(model, tmp_path / "export", class_names=classes)
    rng = np.random.default_rng(0)
    write_video(tmp_path / "clip.mp4", rng.integers(0, 255, (24, 48, 64, 3), dtype=np.uint8), fps=8)
    runtime = OnnxModel(tmp_path / "export")
    expected = model.classify(tmp_path / "clip.mp4", classes, topk=4)
    for names in (None, classes):
        got = runtime.classify(tmp_path / "clip.mp4", names, topk=4)
        assert got.labels == expected.labels
        np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=0, atol=TOLERANCE)
    frames = torch.randn(2, 4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    video, text = _eager(model, frames, model.tokenize(TEXTS))
    assert np.abs(runtime.encode_video(frames.numpy()) - video).max() < TOLERANCE
    assert np.abs(runtime.encode_text(TEXTS) - text).max() < TOLERANCE
    code = (
        "import json, sys\n"
        "from ezclip_zoo.runtime import OnnxModel\n"
        f"m = OnnxModel({str(tmp_path / 'export')!r})\n"
        f"r = m.classify({str(tmp_path / 'clip.mp4')!r}, {classes!r}, topk=4)\n"
        f"ids = m.tokenize({TEXTS!r}).tolist()\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "print(json.dumps({'labels': r.labels, 'probabilities': r.probabilities, 'ids': ids}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH + code], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["labels"] == expected.labels
    np.testing.assert_allclose(record["probabilities"], expected.probabilities, rtol=0, atol=TOLERANCE)
    assert record["ids"] == model.tokenize(TEXTS).tolist()
