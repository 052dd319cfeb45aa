"""``ezclip-zoo list``: architectures and checkpoints with where each loads from, size and reported metrics."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "list",
        help="list checkpoints (and architectures)",
        description="List the checkpoints of checkpoints.json and the registered architectures.",
    )
    p.add_argument("pattern", nargs="?", default="*", help="glob pattern on names (default: all)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--markdown", action="store_true", help="print the manual's checkpoints table")
    fmt.add_argument("--architectures-markdown", action="store_true", help="print the manual's architectures table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..zoo.architecture_table import architecture_row, architectures_markdown
    from ..zoo.pretrained import (
        expected_weights_bytes,
        get_pretrained_entry,
        list_pretrained,
        load_source,
        markdown_table,
        metrics_summary,
    )
    from ..zoo.registry import get_model_config, list_models

    names = list_pretrained(args.pattern)
    if args.markdown:
        print(markdown_table(names))
        return 0
    if args.architectures_markdown:
        print(architectures_markdown(list_models(args.pattern)))
        return 0
    if args.json:
        out = {
            "checkpoints": {n: get_pretrained_entry(n) for n in names},
            "architectures": {n: get_model_config(n).to_dict() for n in list_models(args.pattern)},
        }
        print(json.dumps(out, indent=2))
        return 0
    rows = [("checkpoint", "architecture", "loads from", "weights", "reported top-1")]
    for n in names:
        e = get_pretrained_entry(n)
        size = e["size_bytes"] if e["size_bytes"] is not None else expected_weights_bytes(e)
        metrics = metrics_summary(e)
        approx = "" if e["size_bytes"] is not None else "~"
        rows.append((n, e["architecture"], load_source(e), f"{approx}{size / 1e6:.1f} MB", metrics))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    archs = list_models(args.pattern)
    if archs:
        print("\narchitectures (fresh, untrained prompts and adapters: ezclip_zoo.load(NAME, seed=...)):")
        table: list[tuple[str, ...]] = [("architecture", "family", "backbone / tag", "px", "trainable", "licence")]
        for name in archs:
            a = architecture_row(name)
            table.append((name, a.family, f"{a.backbone} / {a.tag}", str(a.image_size), f"{a.trainable:,}", a.licence))
        widths = [max(len(t[i]) for t in table) for i in range(5)]
        for t in table:
            print("  ".join(c.ljust(w) for c, w in zip(t[:5], widths, strict=True)) + "  " + t[5])
    return 0
