"""`tinycil parity`: the device code under MicroPython computes what the NumPy reference computes."""
import os

import numpy as np
import pytest

import interpreters
from tinycil_host import cli, mpy, parity


def test_parity_against_the_pypi_micropython(capsys):
    assert cli.main(["parity"]) == 0
    out = capsys.readouterr().out
    assert "backend pure" in out and "MISMATCH" not in out
    for op in ("forward", "sgd", "widen", "distill", "learn_class", "file: board file -> host"):
        assert op in out


@pytest.mark.parametrize("interp", interpreters.params(include_pypi=False))
def test_parity_on_every_named_interpreter(interp):
    path, it = interp
    rows, backend = parity.check(path)
    assert backend == it.backend
    assert all(r["ok"] for r in rows), (it.describe(), [r for r in rows if not r["ok"]])


def test_parity_reports_a_mismatch(monkeypatch, capsys):
    # a reference that herds in the wrong order must be caught, with a non-zero exit
    real = parity.herding_order
    monkeypatch.setattr(parity, "herding_order", lambda T, k: real(T, k)[::-1])
    assert cli.main(["parity"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "herding order" in out.split("mismatch(es):")[1]


def test_tolerance_rows_fail_beyond_tolerance():
    assert parity._row("x", [1.0, 2.0], [1.0, 2.0], 0.0)["ok"]
    assert not parity._row("x", [1.0, 2.0 + 1e-4], [1.0, 2.0], 1e-5)["ok"]
    assert not parity._row("x", [np.nan], [1.0], 1.0)["ok"]
    assert not parity._row("x", [1.0], [1.0, 2.0], 1.0)["ok"]


def test_a_missing_interpreter_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["parity", "--micropython", str(tmp_path / "nope")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
