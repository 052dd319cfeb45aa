"""Evaluate an EZ-CLIP model from Python with the paper's protocols: `ezclip_zoo.evaluation.evaluate_dataset` runs
what ``ezclip-zoo evaluate`` runs (zero-shot over splits, mean +- std; base-to-novel) and returns the results
`write_report` writes.

Here on the generated motion videos (laid out like UCF-101) that examples/finetune.py trains on:

    python examples/finetune.py --output runs/finetune-demo
    python examples/evaluate.py runs/finetune-demo/run/model --data runs/finetune-demo/data --report report.json

On real data, e.g. a released checkpoint on UCF-101's three splits (on a GPU):

    evaluate_dataset("ezclip-b16-k400", format="ucf101", annotations="ucfTrainTestlist", video_root="UCF-101",
                     splits=(1, 2, 3), device="cuda")
"""

import argparse
from pathlib import Path

from ezclip_zoo.evaluation import evaluate_dataset, summary_line, write_report
from ezclip_zoo.synthetic import write_motion_dataset


def main(model: str, data_dir: Path, report: Path | None) -> None:
    data = write_motion_dataset(data_dir, "ucf101")  # deterministic: the same videos finetune.py trained on
    where = dict(format="ucf101", annotations=data["annotation_dir"], video_root=data["video_root"], templates=None)
    zero_shot = evaluate_dataset(model, **where)
    print("zero-shot:", summary_line(zero_shot))
    # base-to-novel: without class lists, the first and second half of the classes
    b2n = evaluate_dataset(model, protocol="base-to-novel", **where)
    print("base-to-novel:", summary_line(b2n))
    if report is not None:
        print("report:", write_report(report, {"zero-shot": zero_shot, "base-to-novel": b2n}, model=model))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a zoo folder (e.g. runs/finetune-demo/run/model) or checkpoint name")
    parser.add_argument("--data", type=Path, default=Path("runs/finetune-demo/data"), help="motion dataset folder")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    args = parser.parse_args()
    main(args.model, args.data, args.report)
