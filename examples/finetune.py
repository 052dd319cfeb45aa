"""Fine-tune EZ-CLIP on a video dataset: a thin caller of ``ezclip-zoo finetune`` (same options; see --help).

    python examples/finetune.py --format ucf101 --annotations demo/ucfTrainTestlist --video-root demo/videos \\
        --model ezclip-test-tiny --no-pretrained-backbone --epochs 2 --batch-size 4 --output runs/demo
    torchrun --nproc_per_node=gpu examples/finetune.py ...      # or: torchrun -m ezclip_zoo.cli finetune ...
"""

import sys

from ezclip_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", *sys.argv[1:]]))
