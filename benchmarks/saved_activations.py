"""What one training forward pass keeps for backward: EZ-CLIP (frozen backbone) vs full fine-tuning of the same CLIP.

    python benchmarks/saved_activations.py                     # B/16, 8 frames, 1 clip, float32, CPU
    python benchmarks/saved_activations.py --model ezclip-vit-b32 --clips 2

Counts the storage bytes of every tensor autograd saves during the forward pass of the training loss
(``torch.autograd.graph.saved_tensors_hooks``), each storage once and model parameters excluded: the memory that
must live until backward, independent of the allocator. EZ-CLIP runs in train mode with its reference recipe
(attention dropout, drop-path, prompt dropout); full fine-tuning runs open_clip's own modules with every weight
trainable. Also lists the largest kinds of saved tensor, by shape. Weights are random.
"""

from __future__ import annotations

import argparse
import collections

import torch
from _common import device_line, full_finetune_loss, print_table
from torch.autograd.graph import saved_tensors_hooks

import ezclip_zoo
from ezclip_zoo.modeling.losses import ezclip_loss


def saved_storages(model: torch.nn.Module, fn) -> dict[int, tuple[int, tuple[int, ...]]]:
    """data_ptr -> (bytes, shape) of every storage autograd saves while ``fn`` runs, parameters excluded."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, tuple[int, tuple[int, ...]]] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = (storage.nbytes(), tuple(t.shape))
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        fn()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ezclip-vit-b16")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=1)
    parser.add_argument("--top", type=int, default=4, help="largest kinds of saved tensor to list per variant")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(args.model, pretrained_backbone=False, num_frames=args.frames)
    size = model.image_size
    frames = torch.randn(args.clips, args.frames, 3, size, size)
    labels = torch.arange(args.clips)
    tokens = model.tokenize([f"a video of action number {i}" for i in range(args.clips)])

    def ezclip() -> None:
        model.train()
        ezclip_loss(model.encode_frames(frames), model.encode_text(tokens), labels, model.train_logit_scale)

    def full_finetune() -> None:
        clip = model.clip
        clip.requires_grad_(True)
        try:
            full_finetune_loss(clip, frames, tokens, labels)
        finally:
            clip.requires_grad_(False)

    rows, details = [], []
    results = {
        name: saved_storages(model, fn) for name, fn in (("full fine-tuning", full_finetune), ("EZ-CLIP", ezclip))
    }
    reference = sum(b for b, _ in results["full fine-tuning"].values())
    for name, seen in results.items():
        total = sum(b for b, _ in seen.values())
        rows.append([name, f"{total / 2**20 / args.clips:.0f}", f"{total / reference:.2f}"])
        by_shape = collections.Counter()
        for nbytes, shape in seen.values():
            by_shape[shape] += nbytes
        details.append((name, by_shape.most_common(args.top)))
    print(f"{args.model}, {args.frames} frames x {args.clips} clip(s), float32, train mode; {device_line()}")
    print_table(["variant", "saved for backward, MB per clip", "vs full fine-tuning"], rows)
    for name, top in details:
        print(f"\n{name}, largest kinds: " + "; ".join(f"{list(s)} {b / 2**20:.0f} MB" for s, b in top))


if __name__ == "__main__":
    main()
