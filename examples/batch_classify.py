"""Classify every video under a folder into a resumable JSON Lines file.

    python examples/batch_classify.py VIDEO_FOLDER labels.txt results.jsonl [MODEL]

Videos are decoded in worker processes; each finished video is one line of results.jsonl, flushed at once.
Interrupt it (Ctrl-C) and run the same command again: done videos are skipped, the rest are computed.
Unreadable files get an error record ({"source", "error", "error_type"}) instead of stopping the run.
The CLI does the same: `ezclip-zoo classify VIDEO_FOLDER -m MODEL --labels labels.txt -o results.jsonl`.
"""

import argparse

import torch

import ezclip_zoo
from ezclip_zoo.inference import classify_folder, read_jsonl
from ezclip_zoo.text import read_labels_file


def main(folder: str, labels_file: str, output: str, model_name: str = "ezclip-test-tiny") -> None:
    model = ezclip_zoo.load(model_name, dtype=torch.bfloat16)  # bf16: several times faster on recent CPUs
    report = classify_folder(
        model, folder, read_labels_file(labels_file), output=output, topk=5, num_workers=2, batch_size=8
    )
    print(f"{report.processed} videos now ({report.failed} unreadable), {report.skipped} done before")
    for record in read_jsonl(output)[:5]:
        print(record["source"], record.get("labels", record.get("error")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="folder of videos (searched recursively)")
    parser.add_argument("labels_file", help="class names: one per line, .json or .csv")
    parser.add_argument("output", help="results .jsonl (resumed if it exists)")
    parser.add_argument("model", nargs="?", default="ezclip-test-tiny", help="checkpoint, folder or architecture")
    args = parser.parse_args()
    main(args.folder, args.labels_file, args.output, args.model)
