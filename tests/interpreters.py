"""pytest parameters for the MicroPython interpreters a run has: the PyPI unix port, then every
interpreter $MICROPYTHON names (os.pathsep-separated). An absent or broken one, and a run
without $MICROPYTHON, becomes a skipped case that says why."""
import pytest

from tinycil_host import mpy


def params(include_pypi=True):
    """[pytest.param((path, Interpreter))], ids like 'ulab-f32-32bit'."""
    found = mpy.interpreters()
    out = []
    for path, it in (found if include_pypi else found[1:]):
        if isinstance(it, str):
            out.append(pytest.param((path, None), id=path.rsplit("/", 1)[-1],
                                    marks=pytest.mark.skip(reason="%s names %s" % (mpy.ENV, it))))
        else:
            out.append(pytest.param((path, it), id=it.tag()))
    if not mpy.named_interpreters():
        out.append(pytest.param((None, None), id=mpy.ENV, marks=pytest.mark.skip(
            reason="%s is not set: no ulab or 32-bit interpreter to test (os.pathsep-separated paths)" % mpy.ENV)))
    return out
