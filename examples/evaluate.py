"""Evaluate an EZ-CLIP model with the paper's protocols: a thin caller of ``ezclip-zoo evaluate`` (see --help).

    python examples/evaluate.py --model ezclip-b16-k400 --format ucf101 --annotations ucfTrainTestlist \\
        --video-root UCF-101 --splits 1 2 3 --report ucf_zero_shot.json
"""

import sys

from ezclip_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
