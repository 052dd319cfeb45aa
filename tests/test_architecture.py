"""The package's structure: no import cycles (function-level imports included), the model layer at the bottom,
small units, one definition of each piece of the zero-shot layer, and the old module paths still importing."""

import ast
import importlib
import re
import sys
import warnings
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


FORBIDDEN_FOR_THE_MODEL = ("ezclip_zoo.zoo", "ezclip_zoo.official", "ezclip_zoo.video", "ezclip_zoo.data",
                           "ezclip_zoo.evaluation", "ezclip_zoo.train", "ezclip_zoo.cli", "ezclip_zoo.inference",
                           "ezclip_zoo.synthetic", "ezclip_zoo.transforms")


def test_the_model_layer_is_at_the_bottom():
    offenders = {
        (m, target)
        for m, targets in GRAPH.items() if m.startswith("ezclip_zoo.modeling")
        for target in targets
        if target.startswith(FORBIDDEN_FOR_THE_MODEL)
    }
    assert not offenders, f"model modules import upper layers: {sorted(offenders)}"


def test_the_model_seams_are_filled():
    from ezclip_zoo.inference.classify import classify
    from ezclip_zoo.modeling.hooks import implementation

    assert implementation("classify") is classify and implementation("load") is ezclip_zoo.load
    assert implementation("save") is ezclip_zoo.save_pretrained and implementation("push") is ezclip_zoo.push_to_hub


def test_inference_never_imports_the_model_module():
    offenders = [m for m, t in GRAPH.items()
                 if m.startswith("ezclip_zoo.inference") and "ezclip_zoo.modeling.model" in t]
    assert not offenders


def test_small_units():
    long_functions, long_modules = [], []
    for name, path in MODULES.items():
        source = path.read_text()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            long_modules.append((name, len(source.splitlines())))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append((f"{name}.{node.name}", length))
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines: {long_modules}"


def _files_containing(snippet: str) -> list[str]:
    """Modules whose code contains ``snippet`` (a regular expression when it starts with ``re:``)."""
    if snippet.startswith("re:"):
        pattern = re.compile(snippet[3:])
        return sorted(name for name, path in MODULES.items() if pattern.search(path.read_text()))
    return sorted(name for name, path in MODULES.items() if snippet in path.read_text())


@pytest.mark.parametrize("snippet, home", [
    ('"a photo of action {}"', "ezclip_zoo.text.templates"),  # the ActionCLIP templates
    ("torch.autocast(", "ezclip_zoo.precision"),  # the precision helper
    (r"re:[a-z]\._version\b", "ezclip_zoo.digest"),  # the cheap change token (tensor._version)
    (".view(torch.uint8)", "ezclip_zoo.digest"),  # the tensor digest
    ("logits.softmax(dim=-1).mean(", "ezclip_zoo.inference.scoring"),  # the zero-shot scoring
    ('resize_size=self.image_size * 256 // 224', "ezclip_zoo.transforms.eval"),  # the reference test transform
    ("VIDEO_EXTENSIONS = (", "ezclip_zoo.video.extensions"),
    ('__version__ = "', "ezclip_zoo._version"),
])
def test_one_definition(snippet, home):
    assert _files_containing(snippet) == [home]


def test_one_text_encoder_and_one_class_text_builder():
    from ezclip_zoo import data, evaluation, inference, text

    assert data.ACTION_TEMPLATES is text.ACTIONCLIP_TEMPLATES is inference.ACTIONCLIP_TEMPLATES
    assert data.class_texts is text.class_texts
    assert inference.encode_class_texts is evaluation.encode_class_texts
    # every caller of the text tower for inference goes through text.cache.encode_texts
    callers = [m for m in _files_containing(".encode_text(") if not m.startswith("ezclip_zoo.modeling")]
    assert callers == ["ezclip_zoo.text.cache", "ezclip_zoo.train.trainer"]  # training needs gradients


def test_checkpoints_json_is_packaged_as_a_real_file():
    path = PACKAGE / "checkpoints.json"
    assert path.is_file() and not path.is_symlink()


@pytest.mark.parametrize("old", sorted(ezclip_zoo._moved.MOVED_MODULES))
def test_old_module_paths_still_import_with_a_warning(old):
    new = ezclip_zoo._moved.MOVED_MODULES[old]
    assert old not in MODULES, f"{old} is an alias, so no file may have its name"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    targets = [new] if isinstance(new, str) else list(new)
    for target in targets:
        real = importlib.import_module(target)
        for name in getattr(real, "__all__", []):
            assert getattr(module, name) is getattr(real, name), (old, name)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught) or old in sys.modules


def test_the_error_hierarchy_lives_in_one_module():
    defined = [
        (name, node.name)
        for name, path in MODULES.items() if name != "ezclip_zoo.errors"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
        and any(ast.unparse(b).endswith(("Error", "Exception", "Warning")) for b in node.bases)
    ]
    assert not defined, f"exception types outside ezclip_zoo.errors: {defined}"
