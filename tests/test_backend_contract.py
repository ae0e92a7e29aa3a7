"""The backend contract (stubs/tinycil/_backend.pyi): both kernel modules provide every name it
declares with the same parameters, and the device code uses no kernel outside it."""
import ast
import re

from tinycil_host import DEVICE_DIR, REPO

STUB = REPO / "stubs" / "tinycil" / "_backend.pyi"


def _functions(path):
    tree = ast.parse(path.read_text())
    return {n.name: [a.arg for a in n.args.args] for n in tree.body
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def test_both_backends_provide_the_contract():
    contract = _functions(STUB)
    assert len(contract) >= 30
    for mod in ("_pure.py", "_ulab.py"):
        have = _functions(DEVICE_DIR / "tinycil" / mod)
        for name, params in contract.items():
            assert name in have, "%s lacks %s" % (mod, name)
            assert have[name] == params, "%s.%s%s, the contract says %s" % (mod, name, have[name], params)
        assert re.search(r'^NAME = "', (DEVICE_DIR / "tinycil" / mod).read_text(), re.M), mod


def test_every_contract_entry_says_what_it_does():
    tree = ast.parse(STUB.read_text())
    for n in tree.body:
        if isinstance(n, ast.FunctionDef):
            assert len(ast.get_docstring(n) or "") > 15, "%s has no contract line" % n.name


def test_device_code_uses_only_the_contract():
    contract = set(_functions(STUB)) | {"NAME"}
    used = set()
    for f in (DEVICE_DIR / "tinycil").glob("*.py"):
        if f.name in ("_pure.py", "_ulab.py"):
            continue
        used |= set(re.findall(r"\b(?:self\.B|l\.B|lrn\.B|B)\.([A-Za-z_]\w*)", f.read_text()))
    assert used <= contract, "used but not in the contract: %s" % sorted(used - contract)
