"""The package's structure: no import cycles (function-level imports included), imports only down the layers,
small units, and one definition of each piece of the zero-shot layer."""

import ast
import re
from pathlib import Path

import pytest

import ezclip_zoo

PACKAGE = Path(ezclip_zoo.__file__).parent
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:`` (they never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    return skipped


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports anywhere in its code (functions included)."""
    tree = ast.parse(MODULES[module].read_text())
    skipped = _type_checking_blocks(tree)
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("ezclip_zoo")}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not target.startswith("ezclip_zoo"):
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES and m != module}


GRAPH = {m: _imports(m) for m in MODULES}


def test_no_import_cycles():
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in GRAPH[v]:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_sees_function_level_imports():
    # expected_weights_bytes builds a model inside a function: the test must see such imports, or it proves nothing
    assert "ezclip_zoo.zoo.factory" in GRAPH["ezclip_zoo.zoo.pretrained"]


# The layers, bottom first: a module may import its own package and the layers below it, never one beside or
# above it (function-level imports included). docs/architecture.md's table is this one.
LAYERS = (
    ("_version", "_lazy", "choices"),
    ("errors", "paths", "precision", "digest"),
    ("fetch",),
    ("video",),
    ("text",),
    ("transforms",),
    ("runtime",),  # torch-free: video, transforms.pixels, digest, errors
    ("inference",),
    ("localization",),
    ("live",),  # watch: the segment rule of localization over live sources (capture thread, ring buffer)
    ("modeling",),  # EZCLIP.classify / localize call inference and localization, imported when called
    ("official",),
    ("zoo",),
    ("data", "figures", "saliency", "search", "export"),
    ("evaluation",),
    ("train",),
    ("synthetic",),
    ("demo",),
    ("cli",),
    ("<root>",),  # ezclip_zoo/__init__: lazy names only
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def test_every_package_has_a_layer():
    assert {_unit(m) for m in MODULES} == set(RANK)


def test_imports_only_go_down_the_layers():
    offenders = sorted(
        (m, target)
        for m, targets in GRAPH.items()
        for target in targets
        if _unit(m) != _unit(target) and RANK[_unit(target)] >= RANK[_unit(m)]
    )
    assert not offenders, f"imports of a layer beside or above: {offenders}"


def test_the_model_layer_knows_nothing_of_files_hub_or_datasets():
    offenders = sorted(
        (m, t)
        for m, targets in GRAPH.items()
        if m.startswith("ezclip_zoo.modeling")
        for t in targets
        if _unit(t) in ("zoo", "official", "data", "train", "evaluation", "fetch")
    )
    assert not offenders


def test_inference_never_imports_the_model_module():
    offenders = [
        m for m, t in GRAPH.items() if m.startswith("ezclip_zoo.inference") and "ezclip_zoo.modeling.model" in t
    ]
    assert not offenders


def _code_lines(source: str, node: ast.AST) -> int:
    """Lines of code in ``node`` (a function's body or a module): no docstring, comment or blank line counts.

    The formatter lays a long signature out one parameter a line, and docstrings say shapes and units at length;
    neither is logic, so the caps count only what runs (readability chosen over a raw line count)."""
    docstrings = set()
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    first = getattr(node, "lineno", 1)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        first = node.body[0].lineno  # the body: a signature laid out a parameter a line is not logic
    last = getattr(node, "end_lineno", None) or len(source.splitlines())
    return sum(
        1
        for number, line in enumerate(source.splitlines()[first - 1 : last], start=first)
        if number not in docstrings and line.strip() and not line.strip().startswith("#")
    )


def test_small_units():
    long_functions, long_modules = [], []
    for name, path in MODULES.items():
        source = path.read_text()
        tree = ast.parse(source)
        if _code_lines(source, tree) > MAX_MODULE_LINES:
            long_modules.append((name, _code_lines(source, tree)))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = _code_lines(source, node)
                if length > MAX_FUNCTION_LINES:
                    long_functions.append((f"{name}.{node.name}", length))
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines of code: {long_functions}"
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines of code: {long_modules}"


def _files_containing(snippet: str) -> list[str]:
    """Modules whose code contains ``snippet`` (a regular expression when it starts with ``re:``)."""
    if snippet.startswith("re:"):
        pattern = re.compile(snippet[3:])
        return sorted(name for name, path in MODULES.items() if pattern.search(path.read_text()))
    return sorted(name for name, path in MODULES.items() if snippet in path.read_text())


@pytest.mark.parametrize(
    "snippet, home",
    [
        ('"a photo of action {}"', "ezclip_zoo.text.templates"),  # the ActionCLIP templates
        ("torch.autocast(", "ezclip_zoo.precision"),  # the precision helper
        (r"re:[a-z]\._version\b", "ezclip_zoo.digest"),  # the cheap change token (tensor._version)
        (".view(torch.uint8)", "ezclip_zoo.digest"),  # the tensor digest
        ("logits.softmax(dim=-1).mean(", "ezclip_zoo.inference.scoring"),  # the zero-shot scoring
        ("resize_size=self.image_size * 256 // 224", "ezclip_zoo.transforms.eval"),  # the reference test transform
        ("VIDEO_EXTENSIONS = (", "ezclip_zoo.video.extensions"),
        ('__version__ = "', "ezclip_zoo._version"),
    ],
)
def test_one_definition(snippet, home):
    assert _files_containing(snippet) == [home]


def test_one_text_encoder_and_one_class_text_builder():
    from ezclip_zoo import data, evaluation, inference, text

    # each name is exported by its one home only: no re-exports under other packages
    for face in (data, evaluation, inference):
        assert not {"ACTIONCLIP_TEMPLATES", "class_texts", "encode_texts"} & set(face.__all__), face.__name__
    assert "encode_class_texts" not in evaluation.__all__ and "encode_class_texts" in inference.__all__
    assert "ACTIONCLIP_TEMPLATES" in text.__all__ and "class_texts" in text.__all__
    # every caller of the text tower for inference goes through text.cache.encode_texts
    callers = [m for m in _files_containing(".encode_text(") if not m.startswith("ezclip_zoo.modeling")]
    assert callers == ["ezclip_zoo.text.cache", "ezclip_zoo.train.trainer"]  # training needs gradients


def test_checkpoints_json_is_packaged_as_a_real_file():
    path = PACKAGE / "checkpoints.json"
    assert path.is_file() and not path.is_symlink()


def test_the_error_hierarchy_lives_in_one_module():
    defined = [
        (name, node.name)
        for name, path in MODULES.items()
        if name != "ezclip_zoo.errors"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and any(ast.unparse(b).endswith(("Error", "Exception", "Warning")) for b in node.bases)
    ]
    assert not defined, f"exception types outside ezclip_zoo.errors: {defined}"
