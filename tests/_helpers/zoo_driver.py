"""Run one zoo action in a fresh process (the suite itself is offline): register entries, then load or download.

Usage: python tests/_helpers/zoo_driver.py SPEC.json, where SPEC has ``entries`` ({name: entry}), optional
``architectures`` ({name: config}, registered first), ``action`` ("load",
"download" or "cli"), ``name``, optional ``to``, ``force``, ``argv`` (for "cli"), ``parity`` (inputs file) and
``out`` (where to write the logits); or "descriptions" of class set ``name`` (``class_sets`` overrides entries).
Prints one JSON line: {"ok": true} or {"error": TYPE, "message": ...}.
"""

import json
import sys

spec = json.loads(open(sys.argv[1]).read())

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import ezclip_zoo  # noqa: E402

for name, config in spec.get("architectures", {}).items():
    ezclip_zoo.register_model(name, config)
for name, entry in spec.get("entries", {}).items():
    ezclip_zoo.register_pretrained(name, entry)
for name, entry in spec.get("class_sets", {}).items():  # e.g. the descriptions URL pointed at a test server
    ezclip_zoo.register_class_set(name, entry, overwrite=True)
try:
    if spec["action"] == "descriptions":
        described = ezclip_zoo.class_descriptions(spec["name"])
        print(json.dumps({"ok": True, "count": len(described), "first": next(iter(described.items()))}))
        sys.exit(0)
    if spec["action"] == "cli":
        from ezclip_zoo.cli import main

        rc = main(spec["argv"])
        print(json.dumps({"ok": rc == 0, "rc": rc}))
        sys.exit(0)
    if spec["action"] == "download":
        from ezclip_zoo.zoo.download import download_checkpoint

        download_checkpoint(spec["name"], to=spec.get("to"), force=spec.get("force", False), progress=False)
        target = spec.get("to") or spec["name"]
    else:
        target = spec["name"]
    if spec.get("out"):
        model = ezclip_zoo.load(target, progress=False)
        ref = load_file(spec["parity"])
        with torch.no_grad():
            logits = model(ref["frames"], ref["text_tokens"])
        save_file({"logits": logits.contiguous()}, spec["out"])
    print(json.dumps({"ok": True}))
except Exception as exc:  # reported to the test, which asserts on type and message
    print(
        json.dumps({"error": type(exc).__name__, "message": str(exc), "mro": [c.__name__ for c in type(exc).__mro__]})
    )
