"""The house shows its stages, and its imports run one way; read from the source with ast, not by running it.

- `flows/` holds the flows Prefect runs and nothing else;
- `samskab.common` (settings, reference data, files, progress, failures in words) imports no stage;
- a stage imports stages before it in the flow of data (ingest -> build -> gate -> publish -> operate ->
  analysts) and the common floor, never a later stage and never the composition (`flows`, `samskab.cli`);
- the embedded sample depends on the platform; only the composition (the `samskab sample` command) imports
  it, never a stage;
- no name that starts with an underscore is imported from, or used through, another module;
- no module imports the tests' conftest.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "build", "gate", "publish", "operate", "analysts")
COMMON, SAMPLE, COMPOSITION = "common", "sample", "composition"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def room(self) -> str:
        return room_of(self.name)


def room_of(dotted: str) -> str:
    parts = dotted.split(".")
    if parts[0] == "flows" or dotted == "samskab.cli":
        return COMPOSITION
    if parts[0] != "samskab":
        return ""
    if len(parts) == 1:
        return COMMON
    return parts[1] if parts[1] in (*STAGES, COMMON, SAMPLE) else COMMON


def rank(room: str) -> int:
    order = {COMMON: 0, **{stage: 1 + index for index, stage in enumerate(STAGES)}, SAMPLE: 90, COMPOSITION: 99}
    return order[room]


def modules() -> list[Module]:
    found = []
    for package in ("samskab", "flows"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found.append(Module(".".join(parts), path))
    return found


def imports(module: Module) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every absolute import of the platform."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
    return [item for item in found if item[0].split(".")[0] in ("samskab", "flows", "tests")]


MODULES = modules()


def test_the_rooms_are_the_stages_of_the_flow_of_data():
    rooms = {module.room for module in MODULES}
    assert rooms == {COMMON, SAMPLE, COMPOSITION, *STAGES}


@pytest.mark.parametrize("module", [module for module in MODULES if module.name.startswith("flows.")], ids=str)
def test_flows_holds_only_flows(module):
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    decorated = [
        decorator for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for decorator in node.decorator_list
    ]
    names = {getattr(decorator, "id", getattr(getattr(decorator, "func", None), "id", None)) for decorator in decorated}
    assert module.name == "flows" or "flow" in names, f"{module.name} defines no Prefect flow"


def test_imports_run_one_way_from_the_composition_down_to_the_stages_and_the_common_floor():
    wrong = []
    for module in MODULES:
        for target, _, line in imports(module):
            here, there = module.room, room_of(target)
            if not there or here == COMPOSITION:
                continue
            if there == SAMPLE and here != SAMPLE:
                wrong.append(f"{module.name}:{line} imports the sample ({target})")
            elif here != SAMPLE and rank(there) > rank(here):
                wrong.append(f"{module.name}:{line} ({here}) imports {target} ({there}), up a floor or a later stage")
            elif target.startswith("tests"):
                wrong.append(f"{module.name}:{line} imports the tests ({target})")
    assert wrong == []


def test_no_private_name_is_used_across_modules():
    wrong = []
    for module in MODULES + [Module(path.stem, path) for path in sorted((REPO / "tests").rglob("*.py"))]:
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        imported_modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] not in ("samskab", "flows"):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_"):
                        wrong.append(f"{module.name}:{node.lineno} imports {node.module}.{alias.name}")
                    imported_modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                wrong.append(f"{module.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert wrong == []


def test_no_module_imports_the_tests_conftest():
    wrong = []
    for path in sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "samskab").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
            if any(name.split(".")[-1] == "conftest" for name in names):
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert wrong == []


def test_tests_mirror_the_package_and_the_modules_run_first_exist():
    """Each stage's tests are in the folder named like its room (tests/ingest/ for samskab/ingest/, ...), and
    the longest modules, which conftest.py runs first, are still where it names them."""
    conftest = ast.parse((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    (run_first,) = [
        node.value
        for node in conftest.body
        if isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] == ["RUN_FIRST"]
    ]
    run_first_modules = ast.literal_eval(run_first)
    rooms = {path.name for path in (REPO / "samskab").iterdir() if (path / "__init__.py").exists()}
    folders = {path.name for path in (REPO / "tests").iterdir() if path.is_dir() and list(path.glob("test_*.py"))}
    # tests/flows/ tests the flow; tests/torture/ proves every room under faults (`make torture`).
    assert folders <= rooms | {"flows", "torture"}, folders - rooms
    assert rooms <= folders, f"rooms without tests of their own: {sorted(rooms - folders)}"
    # Only the tests of the house itself and of its command stay at the top.
    assert {path.name for path in (REPO / "tests").glob("test_*.py")} <= {"test_layout.py", "test_cli.py"}
    missing = [module for module in run_first_modules if not (REPO / "tests" / module).exists()]
    assert not missing, f"conftest.RUN_FIRST names modules that are not there: {missing}"
