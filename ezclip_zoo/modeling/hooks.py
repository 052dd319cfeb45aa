"""The seams between the model and the layers above it: saving/loading (the zoo layer) and classifying videos
(inference). `PersistenceMixin` gives `EZCLIP` ``save_pretrained``, ``push_to_hub`` and ``from_pretrained`` and
`EZCLIP.classify` calls `implementation("classify")`; the composition root (``ezclip_zoo._wiring``, imported on
first use) registers the functions, so the model layer imports nothing above it (in the spirit of
huggingface_hub's ``ModelHubMixin``, where the library supplies the storage and the class supplies itself)."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, TypeVar, Union

import torch

from .._seams import resolve

__all__ = ["PersistenceMixin", "register", "implementation"]

_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {}
T = TypeVar("T", bound="PersistenceMixin")


def register(**functions: Callable[..., Any]) -> None:
    """Install the functions behind the seams: ``save``, ``push``, ``load`` (zoo), ``classify`` and ``localize``
    (inference)."""
    unknown = set(functions) - {"save", "push", "load", "classify", "localize"}
    if unknown:
        raise ValueError(f"no seam named {sorted(unknown)}")
    _IMPLEMENTATIONS.update(functions)


def implementation(name: str) -> Callable[..., Any]:
    """The function registered for seam ``name`` (the composition root, `ezclip_zoo._wiring`, fills the seams on
    first use)."""
    return resolve(_IMPLEMENTATIONS, name)


class PersistenceMixin:
    """Zoo-folder and Hub persistence for a model class (`EZCLIP`)."""

    def save_pretrained(
        self, folder: Union[str, os.PathLike], *, adapter_dtype: torch.dtype = torch.float16,
        card: Optional[dict[str, Any]] = None,
    ) -> os.PathLike:
        """Write a zoo folder: ``config.json``, ``model.safetensors`` (prompts fp32, adapters ``adapter_dtype``),
        a model card ``README.md``, and ``backbone.safetensors`` when the backbone is not fetchable by name.
        See `ezclip_zoo.zoo.serialization.save_pretrained`."""
        return implementation("save")(self, folder, adapter_dtype=adapter_dtype, card=card)

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> str:
        """Save and upload to a Hugging Face Hub model repo; see `ezclip_zoo.push_to_hub`. Returns the commit URL."""
        return implementation("push")(self, repo_id, **kwargs)

    @classmethod
    def from_pretrained(cls: type[T], name_or_path: Union[str, os.PathLike], **kwargs: Any) -> T:
        """`ezclip_zoo.load`, building an instance of this class (so subclasses load as themselves)."""
        return implementation("load")(name_or_path, model_class=cls, **kwargs)
