"""Host side: every `tinycil` command given a missing file, a file of the wrong shape, a
bad port or bad options exits non-zero with a one-line error and no traceback.

The cases cover every subcommand registered in tinycil_host.cli.COMMANDS (a test checks
that none is left out). argparse's own usage errors print the usage block and one
"error:" line; everything else must be a single line.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycil_host.cli import COMMANDS

MISSING = "/nonexistent/tinycil-test/missing.npz"
PORT = "/dev/does-not-exist"
# the installed `tinycil` entry point, without depending on PATH (`python -m
# tinycil_host.cli` would run cli.py as __main__, with a second CliError class)
MAIN = "import sys; from tinycil_host.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    wrong = tmp / "wrong.npz"
    np.savez(wrong, X=np.arange(7, dtype=np.float32), y=np.arange(3))  # 1-D X, lengths differ
    csv = tmp / "wrong.csv"
    csv.write_text("a,b,c\n1,2\nthree,4,5\n")
    junk = tmp / "learner"
    junk.mkdir()
    (junk / "learner.bin").write_bytes(b"this is not a learner")
    afile = tmp / "a_file"
    afile.write_text("x")
    return {"WRONG": str(wrong), "CSV": str(csv), "JUNK": str(junk), "AFILE": str(afile), "TMP": str(tmp)}


CASES = {
    "prepare": [["--dataset", MISSING], ["--dataset", "{WRONG}"], ["--dataset", "{CSV}"],
                ["--max-hidden", "-3"], ["--target", "2"], ["--dataset", "nosuchset"]],
    "parity": [["--micropython", "/nonexistent/micropython"], ["--backend", "bogus"]],
    "deploy": [["--port", PORT], ["--port", "virtual", "--board-dir", "{TMP}/b1", "--learner", MISSING],
               ["--port", "virtual", "--board-dir", "{TMP}/b2", "--learner", "{JUNK}"]],
    "learn": [["--port", PORT, "--samples", "{WRONG}", "--label", "x"],
              ["--port", "virtual", "--board-dir", "{TMP}/b3", "--samples", MISSING, "--label", "x"],
              ["--port", "virtual", "--board-dir", "{TMP}/b4", "--samples", "{WRONG}", "--label", "x"]],
    "predict": [["--port", PORT, "--samples", "{WRONG}"],
                ["--port", "virtual", "--board-dir", "{TMP}/b5", "--samples", MISSING]],
    "forget": [["--port", PORT, "x"], ["--port", "virtual", "--board-dir", "{TMP}/b6", "x"]],
    "repl": [["--port", PORT], ["--port", "virtual", "--board-dir", "{AFILE}"]],
    "pull": [["--port", PORT, "--out", "{TMP}/pulled"], ["--port", "virtual", "--board-dir", "{TMP}/empty",
                                                        "--out", "{TMP}/pulled2"]],
    "flash": [["--port", PORT, "--firmware", MISSING], ["--port", PORT, "--firmware", "{AFILE}", "--chip", "bogus"]],
    "demo": [["--samples", "-5", "--out", "{TMP}/demo1"], ["--out", "{AFILE}"], ["--heap", "bogus", "--out", "{TMP}/d2"],
             ["--classes", "0", "--out", "{TMP}/d3"]],
    "bench": [["--dataset", MISSING, "--out", "{TMP}/bench1"], ["--orders", "0", "--out", "{TMP}/bench2"],
              ["--data", "/nonexistent/data", "--dataset", "mnist", "--out", "{TMP}/bench3"]],
    "bench-device": [["--bogus-option"], ["--seeds", "one,two", "--no-search", "--micropython", "/nonexistent/mp"]],
}


def test_every_command_has_cases():
    assert sorted(CASES) == sorted(COMMANDS)


@pytest.mark.parametrize("command,args", [(c, a) for c in CASES for a in CASES[c]],
                         ids=["%s:%s" % (c, " ".join(a)[:40]) for c in CASES for a in CASES[c]])
def test_bad_input_gives_one_line_error(files, command, args):
    args = [a.format(**files) for a in args]
    r = subprocess.run([sys.executable, "-c", MAIN, command, *args], capture_output=True,
                       text=True, timeout=120, cwd=files["TMP"])
    err = r.stderr.strip()
    assert r.returncode != 0, "exit 0 for bad input:\n%s\n%s" % (r.stdout[-800:], err[-800:])
    assert "Traceback" not in err + r.stdout, err[-2000:]
    lines = err.splitlines()
    if lines and lines[0].startswith("usage:"):  # argparse: usage block, then one error line
        lines = [ln for ln in lines if not ln.startswith(("usage:", " "))]
    assert len(lines) == 1, "want one line on stderr, got:\n" + err[-1500:]
    assert "error" in lines[0].lower() or "tinycil" in lines[0].lower(), lines[0]
