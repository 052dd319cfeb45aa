"""Batch inference on Ray: the same records as `classify_videos`, with decoding and the model spread over a
cluster (the optional extra ``ray``: ``pip install 'ezclip-zoo[ray]'``).

Ray Data runs the pipeline: decode + preprocess as Ray tasks (one per video, the `InferenceVideoDataset` code), the
video encoder in an actor pool (``num_actors`` actors, each holding the model once, ``num_gpus`` each), and the
driver scores the embeddings against the class texts and writes the JSON Lines records as they arrive, in input
order. So everything `classify_videos` promises holds: finished videos are skipped on a re-run, an unreadable file
is an error record, a killed driver loses nothing it has written.

What scales with what: decoding with the cluster's CPUs (a task per video), the encoder with the actors (one model
copy each; on GPUs, ``num_gpus=1`` per actor), and the driver does the text side once plus a tiny matrix product
per video, so one driver keeps up with many nodes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..text.cache import encode_texts
from .batch import BatchJob, BatchReport, Engine, classify_videos
from .files import InferenceVideoDataset, find_videos
from .options import InferenceOptions
from .views import encode_views, eval_mode

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["classify_dataset", "ray_engine", "init_ray"]


def init_ray(address: str | None = None, **kwargs: Any) -> None:
    """Connect to a Ray cluster (``address``: ``"auto"``, ``"ray://host:10001"``...) or start a local one, unless
    this process is connected already. Ray's usage statistics stay off unless the environment says otherwise."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray engine needs ray: pip install 'ezclip-zoo[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **kwargs)


class _Encoder:
    """A Ray actor holding the model once: views -> normalised embeddings [V, E] per video (zeros for failures)."""

    def __init__(self, model_ref: list, options: InferenceOptions, views: int, dim: int, device: str) -> None:
        import ray

        self.model = ray.get(model_ref[0]).to(device).eval()
        self.options, self.views, self.dim = options, views, dim

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = np.asarray(batch["ok"], dtype=bool)
        features = np.zeros((len(ok), self.views, self.dim), np.float32)
        if ok.any():
            x = torch.from_numpy(np.ascontiguousarray(np.stack(list(batch["views"][ok])))).flatten(0, 1)
            with eval_mode(self.model):
                out = encode_views(
                    self.model,
                    x.to(self.model.device),
                    batch_size=self.options.batch_size,
                    autocast_dtype=self.options.autocast_dtype(self.model),
                )
            features[ok] = out.cpu().numpy().reshape(int(ok.sum()), self.views, self.dim)
        return {"meta": batch["meta"], "ok": ok, "features": features}


def _decoder(
    dataset: InferenceVideoDataset, views_shape: tuple[int, ...]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def decode(row: dict[str, Any]) -> dict[str, Any]:
        item = dataset[int(row["id"])]
        views = item.pop("views")
        ok = views is not None
        return {"meta": json.dumps(item), "ok": ok, "views": views.numpy() if ok else np.zeros(views_shape, np.float32)}

    return decode


def ray_engine(
    *,
    num_actors: int = 1,
    num_gpus: float = 0.0,
    address: str | None = None,
    decode_cpus: float = 0.5,
    actor_cpus: float = 1.0,
) -> Engine:
    """An engine for `classify_videos` (``engine=``) that runs on Ray.

    Args:
        num_actors: model replicas (an actor pool of this size).
        num_gpus: GPUs per actor (0: the model runs on CPU).
        address: the cluster to connect to (None: the running one, or a local one).
        decode_cpus: CPUs each decoding task reserves (not 1: a request equal to the actors' would let Ray fuse
            decoding into the actors, serialising it behind the model).
        actor_cpus: CPUs each model actor reserves.

    Raises (when run):
        ValueError: the cluster has too few CPUs for the actors plus one decoding task (Ray would wait forever).
    """
    if not isinstance(num_actors, int) or isinstance(num_actors, bool) or num_actors < 1:
        raise ValueError(f"num_actors must be a positive int, got {num_actors!r}")
    if not isinstance(num_gpus, (int, float)) or num_gpus < 0:
        raise ValueError(f"num_gpus must be a number >= 0, got {num_gpus!r}")

    def engine(
        model: EZCLIP, dataset: InferenceVideoDataset, options: InferenceOptions, job: BatchJob
    ) -> Iterator[tuple[dict[str, Any], torch.Tensor | None]]:
        if len(dataset) == 0:
            return
        import ray

        init_ray(address)
        cpus = float(ray.cluster_resources().get("CPU", 0))
        if num_actors * actor_cpus + decode_cpus > cpus + 1e-9:
            raise ValueError(
                f"{num_actors} actors x {actor_cpus} CPU + {decode_cpus} CPU for decoding exceed the "
                f"cluster's {cpus:g} CPUs: use fewer actors, smaller actor_cpus, or a bigger cluster"
            )
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        size = model.image_size
        views = options.num_clips * options.num_crops
        with eval_mode(model):
            dim = int(encode_texts(model, ["a"]).shape[-1])  # the embedding size E
        model_ref = [ray.put(model.cpu())]
        pipeline = ray.data.range(len(dataset)).map(
            _decoder(dataset, (views, model.num_frames, 3, size, size)), num_cpus=decode_cpus
        )
        pipeline = pipeline.map_batches(
            _Encoder,
            fn_constructor_kwargs={
                "model_ref": model_ref,
                "options": options,
                "views": views,
                "dim": dim,
                "device": "cuda" if num_gpus else "cpu",
            },
            batch_size=max(1, options.batch_size // views),
            compute=ray.data.ActorPoolStrategy(size=num_actors),
            num_cpus=actor_cpus,
            num_gpus=num_gpus,
            batch_format="numpy",
        )
        for row in pipeline.iter_rows():
            item = json.loads(row["meta"])
            yield item, torch.from_numpy(np.array(row["features"])) if row["ok"] else None

    return engine


def classify_dataset(
    videos: str | os.PathLike | Sequence[str | os.PathLike] | Any,
    model: EZCLIP,
    class_names: Any,
    *,
    output: str | os.PathLike | None = None,
    num_actors: int = 1,
    batch_size: int = 8,
    num_gpus: float = 0.0,
    address: str | None = None,
    actor_cpus: float = 1.0,
    **kwargs: Any,
) -> BatchReport:
    """Classify many videos on Ray: `classify_videos` with `ray_engine`.

    Args:
        videos: a folder, video file paths, or a Ray ``Dataset`` with a ``path`` column.
        model: an `EZCLIP` (sent once to each actor).
        class_names: as in `classify` (names, a dict, a class-set name).
        output: the JSON Lines file (resumable, the same records as `classify_folder`).
        num_actors, num_gpus, address, actor_cpus: see `ray_engine`.
        batch_size: clips per forward pass in each actor.
        kwargs: the other arguments of `classify_videos` (topk, templates, resume, retry_errors, progress, ...).
    """
    paths: Sequence[str | os.PathLike]
    if isinstance(videos, (str, os.PathLike)) and os.path.isdir(videos):
        paths = find_videos(videos)
    elif hasattr(videos, "select_columns") and hasattr(videos, "take_all"):  # a Ray Dataset
        paths = [row["path"] for row in videos.select_columns(["path"]).take_all()]
    else:
        paths = [videos] if isinstance(videos, (str, os.PathLike)) else list(videos)
    engine = ray_engine(num_actors=num_actors, num_gpus=num_gpus, address=address, actor_cpus=actor_cpus)
    return classify_videos(model, paths, class_names, output=output, engine=engine, batch_size=batch_size, **kwargs)
