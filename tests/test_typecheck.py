"""`make typecheck`: pyright over device/ with stubs/ (ulab subset, tinycil API) and the
micropython-rp2/esp32 stubs from PyPI, whose MicroPython stdlib replaces CPython's typeshed."""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tinycil_host import REPO

PYRIGHT = Path(sys.executable).parent / "pyright"


def _pyright(*args):
    exe = str(PYRIGHT) if PYRIGHT.exists() else shutil.which("pyright")
    if exe is None:
        pytest.fail("pyright is not installed: pip install -e '.[dev]'")
    # -t: the venv's site-packages holds micropython-stdlib-stubs' stdlib/ (any Python version)
    return subprocess.run([exe, "-p", str(REPO / "stubs" / "pyrightconfig.json"),
                           "-t", sysconfig.get_paths()["purelib"], *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_device_code_and_examples_typecheck():
    r = _pyright()
    assert r.returncode == 0 and "0 errors" in r.stdout, r.stdout[-4000:] + r.stderr[-2000:]


def test_stubs_catch_a_wrong_call(tmp_path):
    # the stubs are not vacuous: misuse of the ulab and tinycil APIs is an error
    bad = REPO / "stubs" / "examples" / "_wrong_call_check.py"
    bad.write_text("import tinycil\nfrom ulab import numpy as np\n"
                   "l = tinycil.load(path=3)\nl.learn_class(5, [])\nnp.zeros((2, 2), dtype='f')\n")
    try:
        r = _pyright(str(bad))
    finally:
        bad.unlink()
    assert r.returncode != 0
    assert r.stdout.count("error:") >= 3, r.stdout
