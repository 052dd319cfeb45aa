"""How many of each class set's texts are longer than each backbone's text context, and so get truncated.

The authors' class descriptions (one LLM-written sentence or two per class) fit OpenAI CLIP's 77 tokens; PE-Core's
text tower has 32. For every class set with descriptions, this counts the descriptions (and the bare class names,
and ActionCLIP's longest template around them) whose CLIP-BPE token count, start and end tokens included, exceeds
each context. Backbones with a Hugging Face tokenizer (SigLIP 2: Gemma, 64 tokens; MetaCLIP 2: XLM-V, 77) are counted
when their tokenizer is in the local Hugging Face cache (``--hf`` names them), since this machine may be offline.

    python benchmarks/text_truncation.py [--csv-dir ../shared/authors-class-texts] [--hf timm/ViT-B-16-SigLIP2:64]

Prints a Markdown table: class set x backbone tokenizer/context -> truncated texts of all texts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from open_clip.tokenizer import SimpleTokenizer

from ezclip_zoo.text.class_sets import class_names, get_class_set, list_class_sets
from ezclip_zoo.text.files import read_authors_descriptions
from ezclip_zoo.text.templates import ACTIONCLIP_TEMPLATES

CLIP_CONTEXTS = {"OpenAI CLIP, EVA02, MobileCLIP2, MetaCLIP 1 (77)": 77, "PE-Core (32)": 32}


def _clip_lengths(texts: list[str]) -> list[int]:
    bpe = SimpleTokenizer()
    return [len(bpe.encode(bpe.clean_fn(t))) + 2 for t in texts]


def _hf_lengths(name: str, texts: list[str]) -> list[int] | None:
    try:
        from open_clip.tokenizer import HFTokenizer

        tokenizer = HFTokenizer(name, context_length=10_000, clean="canonicalize", local_files_only=True)
    except Exception as exc:  # not cached here, or transformers missing: the row says so
        print(f"(skipped {name}: {type(exc).__name__})")
        return None
    return [len(ids) for ids in tokenizer.tokenizer([tokenizer.clean_fn(t) for t in texts])["input_ids"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "authors-class-texts"
    parser.add_argument("--csv-dir", type=Path, default=default, help="the authors' description CSVs")
    parser.add_argument("--hf", action="append", default=[], metavar="TOKENIZER:CONTEXT", help="also count these")
    args = parser.parse_args()

    columns = dict(CLIP_CONTEXTS)
    rows = []
    for name in list_class_sets():
        entry = get_class_set(name)
        texts = {"class names": class_names(name)}
        longest = max(ACTIONCLIP_TEMPLATES, key=len)
        texts["names in the longest template"] = [longest.format(c) for c in class_names(name)]
        source = (entry.get("descriptions") or {}).get("url")
        csv = args.csv_dir / os.path.basename(source) if source else None
        if csv is not None and csv.is_file():
            texts["descriptions"] = list(read_authors_descriptions(csv).values())
        for kind, items in texts.items():
            lengths = _clip_lengths(items)
            cells = [f"{sum(n > c for n in lengths)} / {len(items)}" for c in CLIP_CONTEXTS.values()]
            for spec in args.hf:
                tokenizer, context = spec.rsplit(":", 1)
                columns.setdefault(f"{tokenizer} ({context})", int(context))
                hf = _hf_lengths(tokenizer, items)
                cells.append("-" if hf is None else f"{sum(n > int(context) for n in hf)} / {len(items)}")
            rows.append((name, kind, max(lengths), cells))
    print("| class set | texts | longest (CLIP BPE tokens) | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for name, kind, longest_tokens, cells in rows:
        print(f"| {name} | {kind} | {longest_tokens} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
