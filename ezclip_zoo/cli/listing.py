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
    fmt.add_argument("--markdown", action="store_true", help="print the README's checkpoints table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
        size = e["size_bytes"] or expected_weights_bytes(e)
        metrics = metrics_summary(e)
        approx = "" if e["size_bytes"] else "~"
        rows.append((n, e["architecture"], load_source(e), f"{approx}{size / 1e6:.1f} MB", metrics))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    archs = list_models(args.pattern)
    if archs:
        print(
            "\narchitectures (fresh, untrained prompts/adapters: ezclip_zoo.load(NAME, seed=...)): " + ", ".join(archs)
        )
    return 0
