"""EZ-CLIP vs X-CLIP (as `transformers` ships it): classify one video against 400 classes, and per-clip encoders.

    pip install -e ".[bench]"
    python benchmarks/xclip_compare.py                 # ViT-B/32 both sides (X-CLIP's default), float32, CPU
    python benchmarks/xclip_compare.py --patch 16      # ViT-B/16 both sides

X-CLIP conditions its text features on each video (video-specific prompting), and `XCLIPModel.forward` encodes
the class texts again for every video; EZ-CLIP's text features depend on the classes only, so a user's second
call reuses them. Both models have random weights (`XCLIPModel(XCLIPConfig())`): speed does not depend on values.
Class texts are 400 ImageNet class names in "a video of a person doing {name}", tokenised with CLIP's BPE for both
models and cut after the longest text, as HF padding would.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _common import device_line, interleaved_medians, print_table, set_threads

import ezclip_zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--patch", type=int, default=32, choices=[16, 32])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)
    try:
        from transformers import XCLIPConfig, XCLIPModel
    except ImportError as exc:  # pragma: no cover
        raise SystemExit('this benchmark needs transformers: pip install -e ".[bench]"') from exc
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    torch.manual_seed(0)
    names = [f"a video of a person doing {n}" for n in IMAGENET_CLASSNAMES[: args.classes]]
    ours = ezclip_zoo.create_model(f"ezclip-vit-b{args.patch}", pretrained_backbone=False, num_frames=args.frames)
    config = XCLIPConfig()
    config.vision_config.patch_size = args.patch
    config.vision_config.num_frames = args.frames
    xclip = XCLIPModel(config).eval()

    tokens = ezclip_zoo.tokenize(names)
    length = int(tokens.argmax(-1).max()) + 1
    input_ids = tokens[:, :length]
    attention_mask = (input_ids != 0).long()
    attention_mask[:, 0] = 1
    frames = torch.randn(1, args.frames, 3, 224, 224)

    with torch.inference_mode():
        text_cache = F.normalize(ours.encode_text(tokens), dim=-1)  # what a warm text cache holds

        def ours_warm():
            video = F.normalize(ours.encode_video(frames), dim=-1)
            return (ours.logit_scale * video @ text_cache.T).softmax(-1)

        def ours_cold():
            text = F.normalize(ours.encode_text(tokens), dim=-1)
            video = F.normalize(ours.encode_video(frames), dim=-1)
            return (ours.logit_scale * video @ text.T).softmax(-1)

        def xclip_classify():
            out = xclip(input_ids=input_ids, attention_mask=attention_mask, pixel_values=frames)
            return out.logits_per_video.softmax(-1)

        t_warm, t_cold, t_x = interleaved_medians(
            [ours_warm, ours_cold, xclip_classify], repeats=args.repeats, warmup=1
        )
        t_ours_enc, t_x_enc = interleaved_medians(
            [lambda: ours.encode_video(frames), lambda: xclip.get_video_features(pixel_values=frames)],
            repeats=args.repeats,
            warmup=1,
        )
    arch = f"ViT-B/{args.patch}"
    print(
        f"one {args.frames}-frame clip vs {args.classes} classes (texts up to {length} tokens), float32; "
        f"{device_line()}"
    )
    print_table(
        ["what", f"X-CLIP {arch} s", f"EZ-CLIP {arch} s", "X-CLIP / EZ-CLIP"],
        [
            ["classify, EZ-CLIP text cache warm", f"{t_x:.2f}", f"{t_warm:.3f}", f"{t_x / t_warm:.1f}"],
            ["classify, EZ-CLIP text cold", f"{t_x:.2f}", f"{t_cold:.2f}", f"{t_x / t_cold:.1f}"],
            ["video encoder per clip", f"{t_x_enc:.3f}", f"{t_ours_enc:.3f}", f"{t_x_enc / t_ours_enc:.2f}"],
        ],
    )


if __name__ == "__main__":
    main()
