"""`push_to_hub`: a model as a zoo folder, uploaded to a Hugging Face Hub model repo."""

from __future__ import annotations

import tempfile
from typing import Any

import torch

from ..modeling.model import EZCLIP
from .loading import HF_HUB_PREFIX
from .serialization import save_pretrained

__all__ = ["push_to_hub"]


def push_to_hub(
    model: EZCLIP,
    repo_id: str,
    *,
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    commit_message: str = "Upload EZ-CLIP checkpoint",
    card: dict[str, Any] | None = None,
    adapter_dtype: torch.dtype = torch.float16,
) -> str:
    """Save ``model`` as a zoo folder and upload it to ``repo_id`` (created if needed); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    card = {"load_id": f"{HF_HUB_PREFIX}{repo_id}", **(card or {})}
    with tempfile.TemporaryDirectory() as tmp:
        save_pretrained(model, tmp, adapter_dtype=adapter_dtype, card=card)
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=tmp, revision=revision, commit_message=commit_message)
    return str(getattr(info, "commit_url", info))
