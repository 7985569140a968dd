"""The layout: imports run one way, the networks' file sits at the bottom and the page at the top, no file, function
or class of the page grows too long."""
import ast

from conftest import REPO

MODULES = {path.stem: path for path in REPO.glob('*.py')} | {
    'web' if path.stem == '__init__' else f'web.{path.stem}': path for path in (REPO / 'web').glob('*.py')}
FACADE_DELEGATES = {('model', 'teach'): {'train'}, ('model', 'test_single'): {'games'}, ('model', 'morph'): {'games'},
                    ('model', 'kids'): {'games'}}  # the reference's Net methods reach up to training and the games


def project_imports(nodes):
    """The project modules that import statements among `nodes` name."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module in MODULES:
            submodules = {f'{node.module}.{alias.name}' for alias in node.names} & MODULES.keys()
            found |= submodules or {node.module}  # from web import actions: web.actions
    return found


def parsed(name):
    return ast.parse(MODULES[name].read_text())


def test_imports_run_one_way_without_a_circle():
    graph = {name: project_imports(parsed(name).body) for name in MODULES}
    done, path = set(), []

    def visit(name):
        assert name not in path, 'an import circle: ' + ' -> '.join(path[path.index(name):] + [name])
        if name in done:
            return
        path.append(name)
        for imported in graph[name]:
            visit(imported)
        path.pop()
        done.add(name)
    for name in sorted(graph):
        visit(name)
    assert graph['model'] <= {'checkpoints', 'consts', 'images', 'precision', 'utils'}  # nothing above them
    assert 'games' not in graph['metrics'] and 'personalise' not in graph['estimators']
    page = {name for name in MODULES if name.startswith('web')} | {'app'}
    assert not any(graph[name] & page for name in MODULES.keys() - page)  # nothing below the page imports it


def test_no_project_import_inside_a_function_but_the_facade_delegates():
    for name in MODULES:
        for node in ast.walk(parsed(name)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = project_imports(ast.walk(node))
                assert inner <= FACADE_DELEGATES.get((name, node.name), set()), (name, node.name, inner)


def test_the_page_has_no_class_over_80_lines():
    for name in [name for name in MODULES if name.startswith('web') or name == 'app']:
        for node in ast.walk(parsed(name)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno < 80, (name, node.name)


def test_no_module_over_450_lines_and_no_function_over_80():
    for name, path in MODULES.items():
        assert len(path.read_text().splitlines()) <= 450, name
        for node in ast.walk(parsed(name)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno < 80, (name, node.name)
