"""Load an EZ-CLIP architecture by name and score clips against action names.

    python examples/quickstart.py               # tiny random model, runs anywhere in seconds
    python examples/quickstart.py ezclip-vit-b16  # real ViT-B/16 backbone (downloads OpenAI CLIP once)

Frames must already be sampled and normalised here ([B, T, 3, H, W]); decoding videos is `model.classify`'s job.
"""

import argparse

import torch

import ezclip_zoo


def main(name: str = "ezclip-test-tiny") -> None:
    print("architectures:", ezclip_zoo.list_models())
    model = ezclip_zoo.load(name)  # an architecture: fresh prompts/adapters over its pretrained CLIP (warns so)
    print(f"{name}: {model.num_trainable_parameters():,} trainable parameters, {model.num_frames} frames")
    frames = torch.randn(2, model.num_frames, 3, model.image_size, model.image_size)
    labels = ["dancing", "juggling", "riding a bike"]
    with torch.inference_mode():
        probs = model(frames, labels).softmax(-1)
    for i, row in enumerate(probs):
        print(f"clip {i}:", ", ".join(f"{label} {p:.2f}" for label, p in zip(labels, row.tolist(), strict=True)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "name", nargs="?", default="ezclip-test-tiny", help="an architecture (ezclip_zoo.list_models())"
    )
    main(parser.parse_args().name)
