"""The device tests (tests/device/) under real MicroPython interpreters.

- the unix port from PyPI (`micropython`, pure backend), always;
- $MICROPYTHON (e.g. a unix build with ulab compiled in), with its best backend,
  when set; otherwise those cases are skipped and say why.
The acceptance test on digits runs under the heaps issue #5 asks for (96wK with the
pure backend, 128wK with ulab; see ACCEPTANCE_HEAP), the unit tests under 256wK.
"""
import os
import re

import pytest

from tinycil_host import DEVICE_DIR, REPO, device_data, mpy

RUNNER = REPO / "tests" / "device" / "run.py"
MODULES = sorted(p.stem for p in (REPO / "tests" / "device").glob("test_*.py"))
# Issue #5's heaps; `tinycil bench-device` finds the smallest that passes. The unit
# tests keep several learners alive at once and get room for that.
ACCEPTANCE_HEAP = {"pure": "96wK", "ulab": "128wK"}
UNIT_HEAP = "256wK"


def interpreters():
    out = [pytest.param(("pure", None), id="unix-pure")]
    ulab = mpy.ulab_interpreter()
    marks = [] if ulab else [pytest.mark.skip(reason="MICROPYTHON is not set: no ulab-enabled interpreter to test")]
    out.append(pytest.param(("auto", ulab), id="MICROPYTHON", marks=marks))
    return out


@pytest.fixture(scope="session")
def device_data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("device-data")
    device_data.write_digits(d / "digits.bin", per_class=50)
    return d


@pytest.mark.parametrize("interp", interpreters())
@pytest.mark.parametrize("module", MODULES)
def test_device_module(module, interp, device_data_dir):
    backend, interpreter = interp
    if backend == "auto":
        backend = mpy.backend_of(interpreter)
    r = mpy.run(RUNNER, args=[device_data_dir, backend, module], interpreter=interpreter,
                heap=ACCEPTANCE_HEAP[backend] if module == "test_digits" else UNIT_HEAP, cwd=REPO, timeout=900)
    print(r.stdout)
    m = re.search(r"^(\d+) passed, (\d+) failed$", r.stdout, re.M)
    assert m, "runner did not finish:\n%s\n%s" % (r.stdout[-3000:], r.stderr[-3000:])
    assert int(m.group(2)) == 0 and r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert int(m.group(1)) > 0, "no device test ran in %s" % module
    assert "backend %s" % backend in r.stdout
