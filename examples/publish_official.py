"""Maintainers: publish one of the authors' released checkpoints as a zoo checkpoint.

The whole path, for a name listed in checkpoints.json (e.g. ezclip-b16-k400):

1. Download the authors' file from Google Drive; its file id is in checkpoints.json ("official_release"), e.g.
   `pip install gdown && gdown 19QNGgaZjPyq0yz7XJGFccS7MV09KMY_K -O k400_zero_shot.pt` (or a browser).
2. Convert and verify: the authors' CLIP must equal open_clip's ViT-B-16/openai to float16 precision.
3. Check the converted folder loads and classifies.
4. Push the folder to the Hub (needs `huggingface-cli login` with write access to the org).
5. Record the pinned revision, sha256 and size in checkpoints.json and regenerate the README table.

    python examples/publish_official.py ezclip-b16-k400 k400_zero_shot.pt            # steps 2-3, dry run
    python examples/publish_official.py ezclip-b16-k400 k400_zero_shot.pt --push     # steps 2-5

Without network access to the OpenAI weights, pass `--backbone-weights CLIP_FILE` (a local open_clip ViT-B-16
state dict) to verify against.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import ezclip_zoo
from ezclip_zoo.zoo.conversion import convert_official

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="checkpoint name in checkpoints.json")
    parser.add_argument("checkpoint", help="the authors' .pt file downloaded from Google Drive")
    parser.add_argument("--out", default=None, help="output folder (default: ./NAME)")
    parser.add_argument("--backbone-weights", default=None, help="local CLIP weights to verify against")
    parser.add_argument("--push", action="store_true", help="upload to the Hub and update checkpoints.json")
    args = parser.parse_args()

    entry = ezclip_zoo.get_pretrained_entry(args.name)
    out = Path(args.out or args.name)
    report = convert_official(
        args.checkpoint, out, name=args.name, verify_backbone=True, backbone_weights=args.backbone_weights
    )
    print(report.summary())

    model = ezclip_zoo.load(out, backbone_weights=args.backbone_weights)
    print(f"loads: {model.num_trainable_parameters():,} trainable parameters, {model.num_frames} frames")
    if not args.push:
        print("dry run: pass --push to upload and record the checkpoint")
        return 0

    url = ezclip_zoo.push_to_hub(model, entry["hf_hub_id"], card={**entry, "name": args.name, "load_id": args.name})
    revision = url.rstrip("/").rsplit("/", 1)[-1]
    path = REPO_ROOT / "checkpoints.json"
    data = json.loads(path.read_text())
    data["checkpoints"][args.name].update(
        status="published", revision=revision, sha256=report.sha256, size_bytes=report.size_bytes
    )
    path.write_text(json.dumps(data, indent=2) + "\n")
    table = subprocess.run(
        [sys.executable, "-m", "ezclip_zoo.cli", "list", "--markdown"], capture_output=True, text=True, check=True
    ).stdout
    print(f"pushed {url}\nupdated checkpoints.json; paste this table into README.md between the markers:\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
