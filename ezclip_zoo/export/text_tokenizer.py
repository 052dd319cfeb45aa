"""The tokenizer of an export: the files the torch-free runtime tokenizes with, its manifest entry, and the check that
the runtime's ids are the eager model's.

CLIP's BPE: the BPE file, SOT/EOT ids, the context and open_clip's ``clean`` option when the backbone sets one.
A Hugging Face tokenizer (SigLIP 2): ``tokenizer.json`` (the Rust tokenizer as transformers loaded it, padding and
truncation off) and what open_clip's ``HFTokenizer`` does around it: the cleaning, the context, padding to it with
the pad token, truncation, the sides, ``strip_sep_token``. Either way the runtime's ids are compared with the eager
tokenizer's on probe texts (long ones included) before the manifest is written: an export whose runtime would
tokenize otherwise is refused, naming the tokenizer.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.hf_tokenizer import HF_TOKENIZER_FILE, HuggingFaceTokenizer
from ..runtime.tokenizer import BPE_FILE_NAME, CLEAN_KINDS, ClipTokenizer

__all__ = ["write_tokenizer", "TOKENIZER_FILES"]

TOKENIZER_FILES = (BPE_FILE_NAME, HF_TOKENIZER_FILE)
_CLIP_OPTIONS = {"clean"}  # SimpleTokenizer options the runtime's ClipTokenizer has
_PROBES = [
    "a person is dancing",
    "Juggling_balls, quickly!",
    "  riding   a BIKE  ",
    "playing guitar &amp; singing",
    "café naïve — “quotes”",
    "unknownword 123 moving left",
    " ".join(["a person is dancing and juggling while riding a bike in the video"] * 8),  # truncated everywhere
]


def _refuse(model: Any, why: str) -> ValueError:
    return ValueError(
        f"cannot export {model.config.name!r} (family {model.family}) for the torch-free runtime: {why}; use this "
        "model from PyTorch"
    )


def _clip_entry(model: Any, folder: Path, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    from open_clip.tokenizer import default_bpe

    other = sorted(set(kwargs) - _CLIP_OPTIONS)
    if other:
        raise _refuse(model, f"its CLIP tokenizer options {other} are not in the runtime's CLIP tokenizer")
    clean = kwargs.get("clean")
    if clean is not None and clean not in CLEAN_KINDS:
        raise _refuse(model, f"its tokenizer's clean={clean!r} is none of open_clip's {CLEAN_KINDS}")
    shutil.copyfile(default_bpe(), folder / BPE_FILE_NAME)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokens = model.tokenize(["a photo"]).cpu()
    entry = {
        "kind": "clip-bpe",
        "bpe": BPE_FILE_NAME,
        "sot": int(tokens[0, 0]),
        "eot": int(tokens[0].max()),
        "context_length": model.context_length,
        "clean": clean,
    }
    return entry, [BPE_FILE_NAME]


def _hf_entry(model: Any, folder: Path, name: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    if kwargs.get("tokenizer_mode"):
        raise _refuse(
            model,
            f"its Hugging Face tokenizer {name!r} uses open_clip's tokenizer_mode={kwargs['tokenizer_mode']!r}, "
            "which the runtime does not implement",
        )
    model.tokenize(["a photo"])  # the eager tokenizer loads (or says which extra it needs)
    from open_clip.tokenizer import HFTokenizer
    from tokenizers import Tokenizer

    wrapper = HFTokenizer(name, context_length=model.context_length, **kwargs)
    hf = wrapper.tokenizer
    backend = getattr(hf, "backend_tokenizer", None)
    if backend is None:
        raise _refuse(model, f"its Hugging Face tokenizer {name!r} has no fast form (no tokenizer.json)")
    if hf.pad_token is None or hf.pad_token_id is None:
        raise _refuse(model, f"its Hugging Face tokenizer {name!r} has no pad token")
    rust = Tokenizer.from_str(backend.to_str())
    rust.no_padding()
    rust.no_truncation()
    rust.save(str(folder / HF_TOKENIZER_FILE))
    entry = {
        "kind": "hugging-face",
        "name": name,
        "file": HF_TOKENIZER_FILE,
        "clean": kwargs.get("clean", "whitespace"),  # HFTokenizer's default
        "context_length": model.context_length,
        "padding": "max_length",
        "truncation": True,
        "pad_id": int(hf.pad_token_id),
        "pad_token": str(hf.pad_token),
        "padding_side": str(hf.padding_side),
        "truncation_side": str(hf.truncation_side),
        "strip_sep_id": int(hf.sep_token_id) if wrapper.strip_sep_token and hf.sep_token_id is not None else None,
    }
    return entry, [HF_TOKENIZER_FILE]


def _check_ids(model: Any, runtime: Callable[[Sequence[str]], np.ndarray], name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = model.tokenize(_PROBES).cpu().numpy()
        ids = runtime(_PROBES)
    if ids.shape != eager.shape or not np.array_equal(ids, eager):
        bad = next(i for i in range(len(_PROBES)) if ids.shape != eager.shape or not np.array_equal(ids[i], eager[i]))
        raise _refuse(
            model,
            f"the runtime's tokenization with {name!r} differs from the eager model's (text {_PROBES[bad][:40]!r}: "
            f"{ids[bad][:12].tolist()} against {eager[bad][:12].tolist()})",
        )


def write_tokenizer(model: Any, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """Write the files the runtime tokenizes ``model``'s texts with into ``folder``, check that the runtime gives the
    eager ids, and return (the manifest's ``tokenizer`` entry, the files written).

    Raises:
        ValueError: the runtime cannot tokenize as the model does (a tokenizer option it lacks, a slow Hugging Face
            tokenizer, or different ids on the probe texts), naming the model, its family and why.
    """
    backbone = model.config.backbone
    name = backbone.tokenizer or "clip"
    kwargs = dict(backbone.tokenizer_kwargs or {})
    if name == "clip":
        entry, files = _clip_entry(model, folder, kwargs)
        runtime: Callable[[Sequence[str]], np.ndarray] = ClipTokenizer(
            folder / BPE_FILE_NAME, model.context_length, entry["clean"]
        )
    else:
        entry, files = _hf_entry(model, folder, str(name), kwargs)
        runtime = HuggingFaceTokenizer.from_manifest(folder, entry)
    _check_ids(model, runtime, str(name))
    return entry, files
