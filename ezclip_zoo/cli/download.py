"""``ezclip-zoo download NAME [--to DIR]`` and ``ezclip-zoo cache``: fetch ahead of time, see and free the cache."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "download",
        help="fetch a checkpoint and its frozen CLIP (for offline or air-gapped use)",
        description="Fetch everything checkpoint NAME needs: its weights (from the Hub, or the authors' release "
        "converted into the zoo cache) and the frozen CLIP's weights. With --to DIR, also write one "
        "self-contained folder that ezclip_zoo.load('DIR') reads with no network at all.",
    )
    p.add_argument("name", help="checkpoint name (ezclip-zoo list)")
    p.add_argument("--to", metavar="DIR", help="write a self-contained folder here")
    p.add_argument("--force", action="store_true", help="download again even if cached")
    p.add_argument("--source", metavar="FILE", help="the authors' .pt file, downloaded by hand (no download)")
    p.add_argument("--keep-source", action="store_true", help="keep the authors' downloaded file after conversion")
    p.add_argument(
        "--no-verify-backbone",
        action="store_true",
        help="skip comparing the CLIP inside the authors' file with open_clip's",
    )
    p.add_argument("--cache-dir", help="Hugging Face cache folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_download)

    c = subparsers.add_parser(
        "cache",
        help="list or remove checkpoints in the zoo cache",
        description="List the checkpoints converted into the zoo cache, or remove one.",
    )
    c.add_argument("action", nargs="?", choices=("list", "remove"), default="list")
    c.add_argument("name", nargs="?", help="with remove: the checkpoint to delete")
    c.set_defaults(func=run_cache)


def run_download(args: argparse.Namespace) -> int:
    from ..zoo.download import download_checkpoint

    folder = download_checkpoint(
        args.name,
        to=args.to,
        force=args.force,
        source_file=args.source,
        keep_source=args.keep_source,
        verify_backbone=not args.no_verify_backbone,
        cache_dir=args.cache_dir,
        progress=not args.no_progress,
    )
    target = f"ezclip_zoo.load({str(folder)!r})" if args.to else f"ezclip_zoo.load({args.name!r})"
    print(f"{args.name}: ready in {folder}; load it with {target}")
    return 0


def run_cache(args: argparse.Namespace) -> int:
    from ..paths import cache_root
    from ..zoo.cache import list_cached, remove_cached

    if args.action == "remove":
        if not args.name:
            raise ValueError("cache remove needs a checkpoint name: ezclip-zoo cache remove NAME")
        freed = remove_cached(args.name)
        print(f"removed {args.name} ({freed / 1e6:.1f} MB)" if freed else f"{args.name} is not in the zoo cache")
        return 0
    entries = list_cached()
    print(f"zoo cache: {cache_root()}")
    if not entries:
        print("(empty)")
    for e in entries:
        state = "ok" if e.valid else "damaged: fetched again on next load"
        print(f"  {e.name}  {e.size_bytes / 1e6:.1f} MB  {state}  from {e.source or '?'}")
    print("Checkpoints from the Hub and the CLIP backbones live in the Hugging Face cache (`hf cache ls`).")
    return 0
