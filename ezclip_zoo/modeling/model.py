"""`EZCLIP`: a frozen open_clip CLIP with temporal visual prompts and adapters (arXiv 2312.08010)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from ..text.tokenizer import get_tokenizer
from .config import EZCLIPConfig
from .families import backbone_family, text_modules, text_pool_type
from .state_dict import check_state_dict
from .towers import TextTower, TimmVideoTower, VideoTower
from .towers.text import pool_positions
from .towers.video import AttentionCapture

if TYPE_CHECKING:  # the argument and result types of classify and localize, imported by those methods when called
    from typing_extensions import Unpack

    from ..inference.options import InferenceKwargs, InferenceOptions
    from ..inference.result import ClassificationResult
    from ..live.watcher import LiveWatch
    from ..localization.result import LocalizationResult
    from ..text.cache import TextEmbeddingCache
    from ..text.labels import ClassNames

__all__ = ["EZCLIP"]

TextInput = Sequence[str] | torch.Tensor


class EZCLIP(nn.Module):
    """EZ-CLIP over a frozen open_clip image-text model.

    Only ``video_tower`` (temporal prompts + vision adapters) and ``text_tower`` (text adapters) hold trainable
    tensors; ``clip`` is the untouched, frozen open_clip model: a ``CLIP`` with its own ViT, or a ``CustomTextCLIP``
    over a timm ViT or Eva trunk (``family``, see `ezclip_zoo.modeling.families`). Build one with
    `ezclip_zoo.load` or `ezclip_zoo.create_model` rather than directly.

    Args:
        config: the model's hyper-parameters; ``config.backbone`` must describe ``clip``.
        clip: the open_clip model (frozen here).

    Raises:
        UnsupportedBackboneError: ``clip`` is of no family EZ-CLIP can sit on.
    """

    clip: Any  # the frozen open_clip model: untyped, and of several classes (see `ezclip_zoo.modeling.families`)

    def __init__(self, config: EZCLIPConfig, clip: nn.Module) -> None:
        super().__init__()
        self.family = backbone_family(clip)
        self.config = config
        self.clip = clip.requires_grad_(False)
        visual: Any = clip.visual
        if self.family == "openai-vit":
            tower: type[VideoTower] = VideoTower
            width, layers = visual.conv1.out_channels, len(visual.transformer.resblocks)
        else:
            tower, width, layers = TimmVideoTower, visual.trunk.embed_dim, len(visual.trunk.blocks)
        text = text_modules(clip)
        with torch.device(self.clip.logit_scale.device):
            self.video_tower = tower(
                width=width,
                layers=layers,
                num_frames=config.num_frames,
                adapter_ratio=config.adapter_ratio,
                prompt_dropout=config.prompt_dropout,
                drop_path=config.drop_path,
                temporal_prompts=config.temporal_prompts,
            )
            self.text_tower = TextTower(
                width=text.transformer.width,
                layers=len(text.transformer.resblocks),
                adapter_ratio=config.adapter_ratio,
                drop_path=config.drop_path,
            )

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        """T, the number of frames per clip the model takes."""
        return self.config.num_frames

    @property
    def image_size(self) -> int:
        """Side of the square input frames, in pixels."""
        size = self.clip.visual.image_size
        return size[0] if isinstance(size, (tuple, list)) else int(size)

    @property
    def context_length(self) -> int:
        """The text tower's context length in tokens (77 for OpenAI's CLIPs, 32 for PE-Core, 64 for SigLIP 2);
        longer texts are truncated."""
        return int(self.clip.context_length)

    @property
    def embed_dim(self) -> int:
        """E, the width of the joint video-text embedding space."""
        text = text_modules(self.clip)
        projection = text.text_projection
        if projection is None:
            return int(text.transformer.width)
        return int(projection.out_features if isinstance(projection, nn.Linear) else projection.shape[-1])

    @property
    def logit_scale(self) -> float:
        """Multiplier of the cosine similarities at inference (100, as the reference evaluates)."""
        return self.config.logit_scale

    @property
    def presence_scale_bias(self) -> tuple[float, float] | None:
        """(``exp(logit_scale)``, ``logit_bias``) of a backbone trained with a sigmoid objective (SigLIP 2: about
        (117, -13)), with which ``sigmoid(scale * cos(video, text) + bias)`` is the probability that a class is
        present at all; None for softmax-trained backbones (OpenAI CLIP, PE-Core), which have no such calibration.

        These are the frozen backbone's: exact for a training-free model, and kept meaningful by fine-tuning with
        the sigmoid loss (``TrainConfig(loss="sigmoid")``); the softmax loss does not train toward them."""
        bias = getattr(self.clip, "logit_bias", None)
        if bias is None:
            return None
        return float(self.clip.logit_scale.exp()), float(bias)

    @property
    def train_logit_scale(self) -> torch.Tensor:
        """``exp(clip.logit_scale)``: the frozen temperature the reference's training loss uses (about 100)."""
        return self.clip.logit_scale.exp()

    @property
    def dtype(self) -> torch.dtype:
        """The floating-point type of the weights (``torch.float32`` unless the model was cast)."""
        return self._patch_weight.dtype

    @property
    def device(self) -> torch.device:
        """The device the weights are on."""
        return self._patch_weight.device

    @property
    def _patch_weight(self) -> torch.Tensor:
        """The vision tower's patch-embedding weight: where the frames meet the model first."""
        visual = self.clip.visual
        return visual.conv1.weight if self.family == "openai-vit" else visual.trunk.patch_embed.proj.weight

    # ------------------------------------------------------------------ encoders
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame embeddings of clips.

        Args:
            frames: [B, T, 3, H, W] frames normalised with the CLIP mean/std, T == ``num_frames``,
                H == W == ``image_size``.

        Returns:
            [B, T, E] embeddings, not normalised.
        """
        if frames.ndim != 5 or frames.shape[2] != 3:
            raise ValueError(f"frames must be [B, T, 3, H, W], got shape {tuple(frames.shape)}")
        if frames.shape[1] != self.num_frames:
            raise ValueError(
                f"this model takes clips of {self.num_frames} frames (its temporal prompts have one vector per "
                f"frame position), got {frames.shape[1]}; sample {self.num_frames} frames per clip"
            )
        size = self.image_size
        if tuple(frames.shape[-2:]) != (size, size):
            raise ValueError(f"frames must be {size}x{size} pixels, got {tuple(frames.shape[-2:])}; resize and crop")
        if not frames.is_floating_point():
            # raw 0-255 pixels would run and give meaningless embeddings
            raise TypeError(
                f"frames must be float pixels normalised with the CLIP mean/std, got {frames.dtype}; use "
                "ezclip_zoo.transforms.preprocess_frames (or model.classify, which decodes and preprocesses)"
            )
        if frames.shape[0] == 0:
            return torch.zeros(0, self.num_frames, self.embed_dim, device=self.device, dtype=self.dtype)
        return self.video_tower(self.clip.visual, frames.to(device=self.device, dtype=self.dtype))

    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        """Clip embeddings: [B, T, 3, H, W] -> [B, E], the mean of the per-frame embeddings, not normalised."""
        return self.encode_frames(frames).mean(dim=1)

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Texts -> [C, context_length] token ids on the model's device, with the backbone's tokenizer
        (``config.backbone.tokenizer``: CLIP's BPE or a Hugging Face tokenizer); long texts are truncated with a
        warning."""
        backbone = self.config.backbone
        tokenizer = get_tokenizer(backbone.tokenizer or "clip", backbone.tokenizer_kwargs)
        return tokenizer(texts, self.context_length).to(self.device)

    @property
    def trims_text(self) -> bool:
        """Whether a batch of texts may be encoded only up to its last pooled token (a causal tower pooled at the
        EOT token): the same function, several times faster for short class names."""
        return text_modules(self.clip).attn_mask is not None and text_pool_type(self.clip) in ("argmax", "eos")

    def encode_text(self, texts: TextInput, *, trim_to_longest: bool = True) -> torch.Tensor:
        """Text embeddings.

        Args:
            texts: C strings, or [C, context_length] token ids from `tokenize`.
            trim_to_longest: encode only up to the batch's last EOT (True, faster), or every position, each text
                gathered at its own EOT (False: no shape depends on the data, which is what ``torch.export`` and
                ONNX need). The causal mask makes both the same function; they round alike to about 1e-7. Towers
                that are not causal or pool at the last position (`trims_text` False) always encode every position.

        Returns:
            [C, E] embeddings at the pooled token, not normalised.
        """
        if isinstance(texts, torch.Tensor):
            if texts.ndim != 2 or texts.dtype not in (torch.int32, torch.int64):
                raise ValueError(f"token ids must be an integer tensor [C, L], got {texts.dtype} {tuple(texts.shape)}")
            if texts.shape[1] > self.context_length:
                raise ValueError(f"token ids are {texts.shape[1]} long, the context is {self.context_length}")
            tokens = texts.to(self.device)
        else:
            tokens = self.tokenize(texts)
        if not (trim_to_longest and self.trims_text):
            return self.text_tower(self.clip, tokens)
        # The text mask is causal, so nothing after the last EOT reaches an EOT: encode only that prefix
        # (class names are ~10 of the 77 tokens, so this is several times faster).
        length = int(pool_positions(self.clip, tokens).max()) + 1
        return self.text_tower(self.clip, tokens[:, :length])

    def forward(self, frames: torch.Tensor, texts: TextInput) -> torch.Tensor:
        """Logits ``logit_scale * cos(video, text)``: frames [B, T, 3, H, W], C texts -> [B, C]."""
        video = F.normalize(self.encode_video(frames), dim=-1)
        text = F.normalize(self.encode_text(texts), dim=-1)
        return self.logit_scale * video @ text.T

    def classify(
        self,
        videos: Any,
        class_names: str | ClassNames,
        *,
        topk: int = 5,
        descriptions: Sequence[str] | Mapping[str, str] | None = None,
        templates: None | str | Sequence[str] = None,
        text: str | None = None,
        text_cache: bool | TextEmbeddingCache = True,
        options: InferenceOptions | None = None,
        **kwargs: Unpack[InferenceKwargs],
    ) -> ClassificationResult | list[ClassificationResult]:
        """Zero-shot ranking of class names for a video (path, bytes, file, frames) or a list of videos.

        ``model.classify("clip.mp4", ["dancing", "juggling"], topk=5)`` -> `ClassificationResult` (a list for a list
        of videos); ``model.classify("clip.mp4", "kinetics400")`` scores against a class set. The arguments are
        those of `ezclip_zoo.inference.classify`, which this calls.
        """
        from ..inference.classification import classify  # the inference layer sits below the model's own methods

        return classify(
            self,
            videos,
            class_names,
            topk=topk,
            descriptions=descriptions,
            templates=templates,
            text=text,
            text_cache=text_cache,
            options=options,
            **kwargs,
        )

    def localize(
        self,
        video: Any,
        class_names: str | ClassNames,
        *,
        window_s: float = 2.0,
        stride_s: float | None = None,
        background: Sequence[str] = (),
        min_score: float = 0.5,
        keep_score: float | None = None,
        min_margin: float = 0.0,
        min_duration_s: float = 0.0,
        merge_gap_s: float = 0.0,
        min_windows: int = 1,
        extent: str = "windows",
        scores: str = "softmax",
        fps: float | None = None,
        descriptions: Sequence[str] | Mapping[str, str] | None = None,
        templates: None | str | Sequence[str] = None,
        text: str | None = None,
        text_cache: bool | TextEmbeddingCache = True,
        progress: bool = False,
        options: InferenceOptions | None = None,
        **kwargs: Unpack[InferenceKwargs],
    ) -> LocalizationResult:
        """When each action happens in a long video: sliding windows of ``window_s`` seconds every ``stride_s``,
        scored zero-shot and merged into segments (seconds); ``background`` texts mean "no action".

        ``model.localize("match.mp4", ["dribbling", "shooting"], background=["people standing"])`` ->
        `LocalizationResult` with ``windows`` (start, end, probabilities [W, C]) and ``segments``. The arguments
        are those of `ezclip_zoo.localization.localize`, which this calls.
        """
        from ..localization import localize

        return localize(
            self,
            video,
            class_names,
            window_s=window_s,
            stride_s=stride_s,
            background=background,
            min_score=min_score,
            keep_score=keep_score,
            min_margin=min_margin,
            min_duration_s=min_duration_s,
            merge_gap_s=merge_gap_s,
            min_windows=min_windows,
            extent=extent,
            scores=scores,
            fps=fps,
            descriptions=descriptions,
            templates=templates,
            text=text,
            text_cache=text_cache,
            progress=progress,
            options=options,
            **kwargs,
        )

    def watch(
        self,
        source: str | os.PathLike,
        class_names: str | ClassNames,
        *,
        window_s: float = 2.0,
        stride_s: float = 0.5,
        background: Sequence[str] = (),
        min_score: float = 0.5,
        keep_score: float | None = None,
        min_margin: float = 0.0,
        min_duration_s: float = 0.0,
        merge_gap_s: float = 0.0,
        min_windows: int = 1,
        extent: str = "windows",
        pace: float | None = None,
        follow: bool = False,
        windows: bool = True,
        timeout_s: float = 10.0,
        duration_s: float | None = None,
        max_windows: int | None = None,
        descriptions: Sequence[str] | Mapping[str, str] | None = None,
        templates: None | str | Sequence[str] = None,
        text: str | None = None,
        text_cache: bool | TextEmbeddingCache = True,
        options: InferenceOptions | None = None,
        **kwargs: Unpack[InferenceKwargs],
    ) -> LiveWatch:
        """Recognise actions in a live stream as they happen: ``with model.watch("udp://127.0.0.1:9000",
        ["juggling"]) as live: for event in live: ...`` yields a `WindowResult` per window as it closes and
        `SegmentEvent` ("opened" / "closed"). The arguments are those of `ezclip_zoo.live.watch`, which this calls.
        """
        from ..live import watch

        return watch(
            self,
            source,
            class_names,
            window_s=window_s,
            stride_s=stride_s,
            background=background,
            min_score=min_score,
            keep_score=keep_score,
            min_margin=min_margin,
            min_duration_s=min_duration_s,
            merge_gap_s=merge_gap_s,
            min_windows=min_windows,
            extent=extent,
            pace=pace,
            follow=follow,
            windows=windows,
            timeout_s=timeout_s,
            duration_s=duration_s,
            max_windows=max_windows,
            descriptions=descriptions,
            templates=templates,
            text=text,
            text_cache=text_cache,
            options=options,
            **kwargs,
        )

    def capture_attention(self, blocks: Sequence[int] | None = None) -> AbstractContextManager[AttentionCapture]:
        """Context manager recording the video tower's per-frame attention probabilities of ``blocks`` (None: all)
        in the forward passes inside: ``with model.capture_attention([-1]) as attn: model.encode_frames(x)`` ->
        ``attn[depth - 1]`` [B*T, heads, L, K], and how the frame embedding reads the tokens (``attn.prefix``,
        ``attn.readout``: `AttentionCapture`). The normal path's results are unchanged."""
        return self.video_tower.capture_attention(blocks)

    # ------------------------------------------------------------------ trainable part
    def trainable_named_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """(name, parameter) of the prompts and adapters: what fine-tuning updates."""
        for prefix in ("video_tower", "text_tower"):
            yield from getattr(self, prefix).named_parameters(prefix=prefix)

    def trainable_parameters(self) -> Iterator[nn.Parameter]:
        """The prompt and adapter parameters (for an optimizer)."""
        return (p for _, p in self.trainable_named_parameters())

    def num_trainable_parameters(self) -> int:
        """Number of trainable scalars (5,204,736 for ViT-B/16 at 8 frames)."""
        return sum(p.numel() for p in self.trainable_parameters())

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the prompt and adapter tensors (detached, on their device): what a zoo checkpoint stores."""
        return {name: param.detach() for name, param in self.trainable_named_parameters()}

    def load_trainable_state_dict(self, state_dict: Mapping[str, torch.Tensor]) -> None:
        """Load prompt and adapter tensors strictly: missing, unexpected or mis-shaped keys raise, listing them."""
        own = dict(self.trainable_named_parameters())
        check_state_dict(own, state_dict, what="trainable weights do not fit this model")
        with torch.no_grad():
            for name, param in own.items():
                param.copy_(state_dict[name].to(dtype=param.dtype, device=param.device))

    # ------------------------------------------------------------------ speed and memory
    def set_grad_checkpointing(self, enable: bool = True) -> EZCLIP:
        """Recompute each transformer block during backward instead of storing its activations.

        Cuts training memory several-fold (see the README's performance section) for about one extra forward
        pass of compute; results and gradients are unchanged. Returns ``self``.
        """
        self.video_tower.grad_checkpointing = enable
        self.text_tower.grad_checkpointing = enable
        return self

    def compile(self, **kwargs: Any) -> EZCLIP:  # type: ignore[override]  # returns self, nn.Module's returns None
        """Compile both towers with ``torch.compile`` (``kwargs`` go to it); the text tower with dynamic shapes,
        since its length follows the longest text. Optional: the first calls pay the compilation."""
        self.video_tower.compile(**kwargs)
        self.text_tower.compile(**{"dynamic": True, **kwargs})
        return self

    def train(self, mode: bool = True) -> EZCLIP:
        """Train mode for the EZ-CLIP parts (prompt dropout, drop-path); the frozen CLIP stays in eval mode."""
        super().train(mode)
        self.clip.eval()
        return self

    def extra_repr(self) -> str:
        """The architecture, backbone, T and whether temporal prompts are on, for ``print(model)``."""
        return (
            f"name={self.config.name!r}, backbone={self.config.backbone.name!r} ({self.family}), "
            f"num_frames={self.num_frames}, "
            f"temporal_prompts={self.config.temporal_prompts}"
        )
