"""`tinycil learn --update`, `tinycil forget`, `tinycil repl` and what `predict` says about
labels the learner does not know, against virtual boards: through a board's port (as a
real board is driven) and through `--port virtual --board-dir`."""
import subprocess
import sys

import numpy as np

from tinycil_host import board_cli, cli
from tinycil_host.board import Board

MAIN = "import sys; from tinycil_host.cli import main; sys.exit(main())"


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def files_of(root):
    return {p.name: p.read_bytes() for p in sorted((root / "tinycil_data").iterdir())}


def classes_on(port):
    with Board.connect(port) as b:
        return board_cli.load_learner(b)["classes"]


def test_update_and_forget_change_the_classes_and_refusals_change_nothing(virtual_board, capsys, digit_files):
    port, root = virtual_board.port, virtual_board.root
    with Board.connect(port) as b:
        board_cli.deploy(b, log=lambda s: None)
        b.exec("import tinycil\ntinycil.new(64, epochs=4, distill_iters=4, input_scale=1/16)")
    for c in (0, 1, 2):
        rc, out, err = run(capsys, "learn", "--port", port, "--label", c, "--samples", digit_files[c])
        assert rc == 0, err
    assert classes_on(port) == ["0", "1", "2"]
    before = files_of(root)
    refused = [
        (("learn", "--port", port, "--label", "1", "--samples", digit_files[1]), "pass --update"),
        (("learn", "--port", port, "--label", "7", "--update", "--samples", digit_files[1]), "no class '7'"),
        (("forget", "--port", port, "7"), "no class '7' to forget"),
    ]
    for argv, message in refused:
        rc, out, err = run(capsys, *argv)
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert "from 20 samples" not in out  # refused before any sample went to the board
        assert files_of(root) == before, argv  # byte-identical
    rc, out, err = run(capsys, "learn", "--port", port, "--label", "1", "--update", "--samples", digit_files[1])
    assert rc == 0, err
    assert "updated '1'" in out and "classes 0, 1, 2;" in out
    assert files_of(root)["learner.bin"] != before["learner.bin"]
    assert classes_on(port) == ["0", "1", "2"]
    rc, out, err = run(capsys, "forget", "--port", port, "1")
    assert rc == 0, err
    assert "forgot '1'" in out and "classes 0, 2;" in out
    assert classes_on(port) == ["0", "2"]  # saved on the board: a fresh load sees it
    # predict on a file with labels 0..3: 1 and 3 are unknown now
    rc, out, err = run(capsys, "predict", "--port", port, "--samples", digit_files["test"], "--show", "0")
    assert rc == 0, err
    y = [str(v) for v in np.load(digit_files["test"])["y"]]
    n1, n3 = y.count("1"), y.count("3")
    line = [ln for ln in out.splitlines() if "unknown to the learner" in ln]
    assert line and line[0].startswith("2 of the true labels are unknown to the learner: 1 (%d samples), 3 (%d samples);"
                                       % (n1, n3)), out
    hits = int(out.split("accuracy ")[1].split("(")[1].split()[0])
    assert "accuracy on known labels %.4f (%d of %d), on all %.4f" % (
        hits / (len(y) - n1 - n3), hits, len(y) - n1 - n3, hits / len(y)) in line[0]


def test_forget_and_repl_with_port_virtual(tmp_path, capsys, digit_files):
    d = tmp_path / "vboard"
    vb = ["--port", "virtual", "--board-dir", d]
    assert run(capsys, "deploy", *vb)[0] == 0
    r = subprocess.run([sys.executable, "-c", MAIN, "repl", *map(str, vb)], input=(
        "import tinycil\nl = tinycil.new(64, epochs=2, distill_iters=2, input_scale=1/16)\n"
        "print('classes', l.classes)\n"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "classes []" in r.stdout, r.stdout + r.stderr
    assert (d / "tinycil_data" / "learner.bin").exists()  # the REPL's filesystem is the board folder
    for c in (0, 2):
        rc, out, err = run(capsys, "learn", *vb, "--label", c, "--samples", digit_files[c])
        assert rc == 0, err
    rc, out, err = run(capsys, "forget", *vb, "0")
    assert rc == 0 and "classes 2;" in out, err
    before = files_of(d)
    rc, out, err = run(capsys, "forget", *vb, "2")
    assert rc == 2 and "only class" in err
    assert files_of(d) == before
    r = subprocess.run([sys.executable, "-c", MAIN, "repl", *map(str, vb)],
                       input="import tinycil; print('loaded', tinycil.load().classes)\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "loaded ['2']" in r.stdout, r.stdout + r.stderr


def test_repl_on_a_real_port_is_mpremote(virtual_board):
    argv, env, cwd = board_cli.repl_command(virtual_board.port)
    assert argv[1:] == ["-m", "mpremote", "connect", virtual_board.port, "repl"]
