"""Export of the encoders (ONNX, torch.export), the torch-free runtime (OnnxModel), its tokenizer and preprocessing,
and the lazy package import that lets the runtime run where torch is not installed."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from _helpers.models import randomize_trainable
from _helpers.models import tiny as tiny_model_of
from _helpers.paths import REPO_ROOT
from _helpers.video_data import make_video

import ezclip_zoo
from ezclip_zoo.cli import main
from ezclip_zoo.errors import ChecksumError, ExportedFileChangedError, ExportedModelError
from ezclip_zoo.export import export_model
from ezclip_zoo.runtime import OnnxModel
from ezclip_zoo.runtime.preprocess import FramePreprocess
from ezclip_zoo.runtime.tokenizer import ClipTokenizer
from ezclip_zoo.transforms.eval import VideoTransform

LABELS = ["dancing", "juggling balls", "riding a bike", "playing guitar"]

# a meta-path finder that makes `import torch` (and what needs it) fail, as on a machine without PyTorch
NO_TORCH = """
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "open_clip", "timm"):
            raise ImportError(f"{name} is blocked: this process runs without PyTorch")
        return None
sys.meta_path.insert(0, _NoTorch())
"""


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", NO_TORCH + code], capture_output=True, text=True, timeout=300, env=env, cwd=REPO_ROOT
    )


def tiny(seed=0):
    model = tiny_model_of(seed)
    randomize_trainable(model, seed=seed)
    return model.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A zoo folder of a tiny model, exported with `ezclip-zoo export` (ONNX, float32, with classes), and a video."""
    root = tmp_path_factory.mktemp("export")
    ezclip_zoo.save_pretrained(tiny(), root / "model")
    code = main(["export", str(root / "model"), str(root / "onnx"), *sum((["-l", x] for x in LABELS), [])])
    assert code == 0
    video = make_video(root / "clip.mp4", 40, height=96, width=128)
    return root / "model", root / "onnx", video


@pytest.fixture(scope="module")
def eager(exported):
    return ezclip_zoo.load(exported[0]).eval()


def test_the_eot_gather_path_equals_the_eager_one():
    model = tiny()
    texts = ["a", "dancing in the rain", "x " * 40, "juggling balls while riding a unicycle", "🎉 party"]
    with torch.no_grad():
        trimmed = model.encode_text(texts)
        full = model.encode_text(model.tokenize(texts), trim_to_longest=False)
    assert full.shape == trimmed.shape == (5, model.clip.text_projection.shape[-1])
    torch.testing.assert_close(full, trimmed, rtol=0, atol=1e-6)


def test_the_torch_free_tokenizer_gives_ezclip_tokenize_ids():
    from open_clip.tokenizer import default_bpe

    from ezclip_zoo.text.class_sets import class_names, list_class_sets
    from ezclip_zoo.text.templates import ACTIONCLIP_TEMPLATES

    texts = [
        "a",
        "Dancing  in the RAIN!!",
        "café naïve résumé",
        "&amp;lt;b&amp;gt; &lt;i&gt; &#39;",
        "don't we'll",
        "1234567 3.14",
        "😀 emoji 🎉",
        "日本語のテキスト",
        "mojibake Ã©",
        "<start_of_text>hi<end_of_text>",
        "tab\tnew\nline",
        "x" * 300,
        " ".join(["word"] * 100),
        "",
        "   ",
        "UPPER lower MiXeD",
        "a-b_c/d\\e",
    ]
    texts += [
        "A person is playing the guitar, strumming chords with the right hand while the left hand frets notes.",
        "Someone pushes [something] from left to right; it falls off the table (5 times).",
        "Jumping jacks: arms and legs spread out, then back together - repeated quickly!",
        "The athlete's 100m sprint, 9.58s, ends with a lean at the finish line...",
    ]
    for name in list_class_sets():  # the packaged class names: thousands of real action phrases
        names = list(class_names(name))
        texts += names + [template.format(n) for template in ACTIONCLIP_TEMPLATES[:2] for n in names[:50]]
    assert len(texts) > 1500
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = ClipTokenizer(default_bpe())(texts)
        theirs = ezclip_zoo.tokenize(texts).numpy()
    assert ours.dtype == np.int64 and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)
    truncated = [str(w.message) for w in caught if "truncated" in str(w.message)]
    # 100 words, warned by both, in the same words
    assert (
        len(truncated) == 2 and truncated[0] == truncated[1] and "1 of " in truncated[0] and "text 12" in truncated[0]
    )


@pytest.mark.parametrize(
    "protocol, mode, h, w",
    [
        ("clip", "shortest", 96, 128),
        ("clip", "shortest", 301, 77),
        ("reference", "shortest", 240, 320),
        ("clip", "squash", 90, 160),
        ("clip", "longest", 90, 160),
        ("clip", "longest", 161, 70),
    ],
)
def test_numpy_preprocessing_equals_the_eager_transform(tiny_model, protocol, mode, h, w):
    from dataclasses import asdict, replace

    transform = replace(VideoTransform.from_model(tiny_model, protocol=protocol), resize_mode=mode, fill_color=7)
    entry = {k: v for k, v in asdict(transform).items() if k != "num_crops"}
    frames = np.random.default_rng(0).integers(0, 256, (3, h, w, 3), dtype=np.uint8)
    ours = FramePreprocess.from_manifest(entry).frames(frames)
    theirs = transform.frames(frames)[0].numpy()
    assert ours.dtype == np.float32 and ours.shape == (3, 3, 64, 64)
    assert np.abs(ours - theirs).max() <= 1e-5


@pytest.mark.parametrize("mode", ["squash", "longest"])
def test_the_other_resize_modes_equal_open_clip(mode):
    from open_clip.transform import PreprocessCfg, image_transform_v2
    from PIL import Image

    from ezclip_zoo.transforms.pixels import preprocess_frame

    cfg = PreprocessCfg(size=64, resize_mode=mode, fill_color=0)
    reference = image_transform_v2(cfg, is_train=False)
    for h, w in ((90, 160), (161, 70), (64, 64)):
        frame = np.random.default_rng(h).integers(0, 256, (h, w, 3), dtype=np.uint8)
        ours = preprocess_frame(frame, 64, 64, mean=cfg.mean, std=cfg.std, resize_mode=mode)[0]
        assert np.array_equal(ours, reference(Image.fromarray(frame)).numpy())


@pytest.mark.subprocess
def test_the_package_and_the_runtime_import_without_torch():
    proc = run_without_torch(
        "import sys, ezclip_zoo, ezclip_zoo.runtime\n"
        "from ezclip_zoo.runtime import OnnxModel, ClipTokenizer, read_clip\n"
        "assert 'torch' not in sys.modules and 'numpy' in sys.modules\n"
        "assert 'create_model' in dir(ezclip_zoo) and 'OnnxModel' in dir(ezclip_zoo.runtime)\n"
        "print(ezclip_zoo.__version__)\n"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == ezclip_zoo.__version__


def test_lazy_names_are_the_objects_they_were():
    from ezclip_zoo.modeling.model import EZCLIP
    from ezclip_zoo.zoo.factory import create_model

    assert ezclip_zoo.EZCLIP is EZCLIP and ezclip_zoo.create_model is create_model
    assert set(ezclip_zoo.__all__) <= set(dir(ezclip_zoo))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ezclip_zoo.nope  # noqa: B018
    assert ezclip_zoo.video.read_video_frames is ezclip_zoo.video.reader.read_video_frames


@pytest.mark.subprocess
def test_round_trip_without_torch_gives_eager_top1_and_probabilities(exported, eager):
    _, out, video = exported
    code = (
        "import json, sys\n"
        "from ezclip_zoo.runtime import OnnxModel\n"
        f"model = OnnxModel({str(out)!r}, threads=1)\n"
        f"stored = model.classify({video!r}, topk=10)\n"
        f"new = model.classify({video!r}, ['surfing', 'playing guitar', 'a cat'])\n"
        "assert 'torch' not in sys.modules\n"
        "print(json.dumps([[stored.class_names, stored.all_probabilities.tolist(), stored.labels, "
        "stored.frame_indices], [new.class_names, new.all_probabilities.tolist(), new.labels]]))\n"
    )
    proc = run_without_torch(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (names, probs, labels, indices), (new_names, new_probs, new_labels) = json.loads(proc.stdout)
    expected = eager.classify(video, LABELS, topk=10, text_cache=False)
    assert names == LABELS and labels[0] == expected.labels[0] and labels == expected.labels
    assert np.abs(np.array(probs) - expected.all_probabilities.numpy()).max() <= 1e-4
    assert indices == expected.frame_indices[0]
    expected_new = eager.classify(video, new_names, text_cache=False)
    assert new_labels[0] == expected_new.labels[0]
    assert np.abs(np.array(new_probs) - expected_new.all_probabilities.numpy()).max() <= 1e-4


def test_the_onnx_encoders_equal_eager_with_dynamic_batch_and_classes(exported, eager):
    _, out, _ = exported
    model = OnnxModel(out, threads=1)
    texts = ["a", "dancing in the rain", "juggling", "x " * 30, "riding"]
    for b, c in ((1, 1), (3, 5)):
        g = torch.Generator().manual_seed(b)
        frames = torch.randn(b, eager.num_frames, 3, eager.image_size, eager.image_size, generator=g)
        with torch.no_grad():
            video = torch.nn.functional.normalize(eager.encode_video(frames), dim=-1).numpy()
            text = torch.nn.functional.normalize(eager.encode_text(texts[:c]), dim=-1).numpy()
        assert np.abs(model.encode_video(frames.numpy()) - video).max() <= 1e-5
        assert np.abs(model.encode_text(texts[:c]) - text).max() <= 1e-5


def test_the_manifest_says_how_to_use_the_encoders(exported, eager):
    from ezclip_zoo.digest import sha256_file

    model_dir, out, _ = exported
    manifest = json.loads((out / "ezclip_export.json").read_text())
    assert manifest["format"] == "onnx" and manifest["dtype"] == "float32" and manifest["model"] == eager.config.name
    assert (manifest["num_frames"], manifest["image_size"], manifest["logit_scale"]) == (8, 64, eager.logit_scale)
    assert manifest["encoders"]["video"]["input_shape"] == ["batch", 8, 3, 64, 64]
    assert manifest["preprocess"]["interpolation"] == VideoTransform.from_model(eager).interpolation
    assert set(manifest["files"]) == {
        "video_encoder.onnx",
        "text_encoder.onnx",
        "bpe_simple_vocab_16e6.txt.gz",
        "class_embeddings.npy",
    }
    assert all(sha256_file(out / name) == digest for name, digest in manifest["files"].items())
    assert manifest["source"]["files"]["model.safetensors"] == sha256_file(model_dir / "model.safetensors")
    assert manifest["classes"]["names"] == LABELS
    assert np.load(out / "class_embeddings.npy").shape == (1, 4, manifest["embed_dim"])


def test_torch_export_programs_equal_eager(tmp_path):
    model = tiny(1)
    manifest = json.loads(export_model(model, tmp_path, format="torch-export").read_text())
    assert manifest["format"] == "torch-export" and manifest["classes"] is None
    video = torch.export.load(str(tmp_path / "video_encoder.pt2")).module()
    text = torch.export.load(str(tmp_path / "text_encoder.pt2")).module()
    frames = torch.randn(3, 8, 3, 64, 64)
    tokens = ezclip_zoo.tokenize(["a", "juggling balls", "riding a bike on a hill"])
    with torch.no_grad():
        torch.testing.assert_close(
            video(frames), torch.nn.functional.normalize(model.encode_video(frames), dim=-1), rtol=0, atol=1e-5
        )
        torch.testing.assert_close(
            text(tokens), torch.nn.functional.normalize(model.encode_text(tokens), dim=-1), rtol=0, atol=1e-5
        )
    with pytest.raises(ExportedModelError, match="torch-export"):
        OnnxModel(tmp_path)


@pytest.mark.slow
def test_int8_quantization_quantizes_the_video_encoders_frozen_layers_only(tmp_path):
    import onnx

    model = tiny(2)
    export_model(model, tmp_path, quantize="int8", class_names=LABELS)
    graph = onnx.load(str(tmp_path / "video_encoder.onnx")).graph
    weights = {init.name for init in graph.initializer}
    float_linear = [n for n in graph.node if n.op_type in ("MatMul", "Gemm") and set(n.input) & weights]
    layers = len(model.video_tower.adapters)
    # what stays float with a constant operand is exactly the adapters (fc1, fc2 of each block)
    assert len(float_linear) == 2 * layers
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) >= 4 * layers  # qkv, out, fc, proj
    text_ops = {n.op_type for n in onnx.load(str(tmp_path / "text_encoder.onnx")).graph.node}
    assert "MatMulInteger" not in text_ops  # the text encoder stays float
    onnx_model = OnnxModel(tmp_path, threads=1)
    assert onnx_model.manifest["quantization"] == {"method": "int8-dynamic", "encoders": ["video"]}
    frames = torch.randn(2, 8, 3, 64, 64)
    with torch.no_grad():
        eager = torch.nn.functional.normalize(model.encode_video(frames), dim=-1).numpy()
        text = torch.nn.functional.normalize(model.encode_text(LABELS), dim=-1).numpy()
    got = onnx_model.encode_video(frames.numpy())
    assert np.allclose(np.linalg.norm(got, axis=-1), 1, atol=1e-5)
    assert 0 < np.abs(got - eager).max() < 0.05 and (got * eager).sum(-1).min() > 0.99  # close, not equal
    assert np.abs(onnx_model.encode_text(LABELS) - text).max() <= 1e-5


@pytest.mark.slow
def test_a_float16_onnx_export_runs_on_onnx_runtime(tmp_path):
    model = tiny(3).to(torch.float16)
    export_model(model, tmp_path)
    onnx_model = OnnxModel(tmp_path, threads=1)
    frames = torch.randn(1, 8, 3, 64, 64)
    with torch.no_grad():
        eager = torch.nn.functional.normalize(model.encode_video(frames).float(), dim=-1).numpy()
    got = onnx_model.encode_video(frames.numpy())
    assert onnx_model.manifest["dtype"] == "float16" and got.dtype == np.float32
    assert np.abs(got - eager).max() < 2e-2


def test_unsupported_options_are_clear_errors(tmp_path, capsys):
    model = tiny()
    with pytest.raises(ValueError, match="format must be one of"):
        export_model(model, tmp_path / "a", format="tflite")
    with pytest.raises(ValueError, match="quantize must be one of"):
        export_model(model, tmp_path / "a", quantize="int4")
    with pytest.raises(ValueError, match="float32 ONNX export"):
        export_model(model, tmp_path / "a", format="torch-export", quantize="int8")
    with pytest.raises(ValueError, match="no bfloat16 kernels"):
        export_model(model.to(torch.bfloat16), tmp_path / "a")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds files an export does not write \\(notes.txt\\)"):
        export_model(tiny(), tmp_path / "busy")
    with pytest.raises(SystemExit) as info:
        main(["export", "ezclip-test-tiny", str(tmp_path / "b"), "--format", "tflite"])
    assert info.value.code == 2 and "invalid choice: 'tflite'" in capsys.readouterr().err
    assert (
        main(["export", "ezclip-test-tiny", str(tmp_path / "b"), "--format", "torch-export", "--quantize", "int8"]) == 1
    )
    assert "float32 ONNX export" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_a_missing_or_edited_file_is_a_clear_error(exported, tmp_path):
    import shutil

    _, out, _ = exported
    missing, edited = tmp_path / "missing", tmp_path / "edited"
    shutil.copytree(out, missing)
    shutil.copytree(out, edited)
    (missing / "text_encoder.onnx").unlink()
    with pytest.raises(ExportedModelError, match="text_encoder.onnx is missing"):
        OnnxModel(missing)
    with open(edited / "class_embeddings.npy", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x00\x80\x3f")
    with pytest.raises(ExportedFileChangedError, match="class_embeddings.npy has sha256") as info:
        OnnxModel(edited)
    assert isinstance(info.value, ChecksumError) and isinstance(info.value, ValueError)
    with pytest.raises(ExportedModelError, match="no ezclip_export.json"):
        OnnxModel(tmp_path)


def test_wrong_inputs_are_clear_errors(exported):
    _, out, _ = exported
    model = OnnxModel(out, threads=1)
    with pytest.raises(ValueError, match="takes clips of 8 frames.*got 4"):
        model.encode_video(np.zeros((1, 4, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="64x64 pixels"):
        model.encode_video(np.zeros((1, 8, 3, 32, 32), np.float32))
    with pytest.raises(TypeError, match="float pixels"):
        model.encode_video(np.zeros((1, 8, 3, 64, 64), np.uint8))
    with pytest.raises(TypeError, match="single string"):
        model.classify(np.zeros((8, 64, 64, 3), np.uint8), "dancing")
    with pytest.raises(ValueError, match="topk"):
        model.classify(np.zeros((8, 64, 64, 3), np.uint8), topk=0)


def test_frames_in_memory_classify_like_eager(exported, eager):
    _, out, _ = exported
    frames = np.random.default_rng(0).integers(0, 256, (20, 80, 100, 3), dtype=np.uint8)
    got = OnnxModel(out, threads=1).classify(frames, topk=2)
    expected = eager.classify(frames, LABELS, topk=2, text_cache=False)
    assert got.labels == expected.labels
    assert np.allclose(got.probabilities, expected.probabilities, atol=1e-4)


@pytest.mark.slow
def test_the_exported_authors_fixture_model_gives_their_logits(parity_model, parity_ref, tmp_path):
    export_model(parity_model, tmp_path)
    model = OnnxModel(tmp_path, threads=1)
    video = model.encode_video(parity_ref["frames"].numpy())
    text = model.encode_text(parity_ref["text_tokens"].numpy())
    logits = model.logit_scale * video @ text.T
    assert np.abs(video - normalised(parity_ref["video_features"])).max() <= 1e-5
    assert np.abs(logits - parity_ref["logits"].numpy()).max() <= 1e-4
    assert np.array_equal(logits.argmax(-1), parity_ref["logits"].numpy().argmax(-1))


def normalised(x: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(x, dim=-1).numpy()
