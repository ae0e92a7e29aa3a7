"""The virtual board itself, driven by the real mpremote (library and command)."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tinycil_host import DEVICE_DIR, REPO, limits
from tinycil_host.board import Board

MPREMOTE = [sys.executable, "-m", "mpremote"]


def test_raw_pty_passes_newlines_unchanged(board):
    # a cooked tty would turn "\n" into "\r\n" (and mpremote would see "\r\r\n")
    assert board.exec("print('a')\nprint('b')") == "a\nb\n"


def test_board_filesystem_is_its_folder(virtual_board, board):
    name = "tinycil-vb-%s" % uuid.uuid4().hex[:8]
    board.put(b"x" * 700, "/lib/%s.txt" % name)
    assert virtual_board.path("/lib/%s.txt" % name).read_bytes() == b"x" * 700
    assert not Path("/lib/%s.txt" % name).exists()
    assert board.listdir("/") == ["lib"]
    assert board.exec("import os\nprint(os.getcwd())").strip() == "/"


def test_state_persists_across_connections(board, virtual_board):
    board.exec("kept = 41")
    board.close()
    with Board.connect(virtual_board.port) as again:
        assert again.eval("kept + 1") == 42  # resume semantics: no soft reset in between


def test_mpremote_command_and_mip_install_local_package_json(virtual_board):
    port = virtual_board.port
    r = subprocess.run(MPREMOTE + ["connect", port, "resume", "mip", "install", "--no-mpy", "device/package.json"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = sorted(p.name for p in virtual_board.path("/lib/tinycil").iterdir())
    assert installed == sorted(p.name for p in (DEVICE_DIR / "tinycil").glob("*.py"))
    r = subprocess.run(MPREMOTE + ["connect", port, "resume", "exec", "import tinycil; print(tinycil.__version__)"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == limits.VERSION, r.stdout + r.stderr


def test_package_json_lists_every_device_file():
    pkg = json.loads((DEVICE_DIR / "package.json").read_text())
    names = sorted(dst for dst, src in pkg["urls"])
    assert names == sorted("tinycil/" + p.name for p in (DEVICE_DIR / "tinycil").glob("*.py"))
    assert all(dst == src for dst, src in pkg["urls"])  # relative URLs work for github: and local paths


def test_cut_cable_fails_fast_on_the_host(virtual_board, board):
    from tinycil_host.board import ConnectionLost
    import pytest
    virtual_board.cut_after(300)
    with pytest.raises(ConnectionLost):
        board.put(os.urandom(4000), "/big.bin")
    assert not virtual_board.path("/big.bin").exists()
