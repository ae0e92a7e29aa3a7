"""Shared fixtures: a virtual board (the MicroPython unix port behind a pty) for mpremote, and a
wide-input data set for the front-end."""
import numpy as np
import pytest

from tinycil_host import board_cli
from tinycil_host.board import Board
from tinycil_host.virtual_board import VirtualBoard


@pytest.fixture
def virtual_board(tmp_path):
    """A running virtual board whose filesystem is tmp_path/board."""
    with VirtualBoard(tmp_path / "board") as vb:
        yield vb


@pytest.fixture
def board(virtual_board):
    """A connected Board on a fresh virtual board."""
    with Board.connect(virtual_board.port) as b:
        yield b


@pytest.fixture
def deployed_board(board):
    """The device package deployed and a small, fast learner created at the REPL (no classes yet)."""
    board_cli.deploy(board, log=lambda s: None)
    board.exec("import tinycil\ntinycil.new(64, epochs=4, distill_iters=4, input_scale=1/16)")
    return board


@pytest.fixture(scope="session")
def digit_files(tmp_path_factory):
    """Per-class sample files (.npz, .csv, .npy) and a labelled test file from scikit-learn's digits."""
    from tinycil_host import datasets
    d = datasets.load("digits")
    out = tmp_path_factory.mktemp("digits")
    files = {}
    for c in range(4):
        X = d.X_train[d.y_train == c][:20]
        files[c] = out / ("class%d.npz" % c)
        np.savez(files[c], X=X)
    np.save(out / "class2.npy", d.X_train[d.y_train == 2][:20])
    rows = [list(x) + [3] for x in d.X_train[d.y_train == 3][:20]]
    (out / "class3.csv").write_text("\n".join(",".join("%g" % v for v in r) for r in rows))
    m = np.isin(d.y_test, [0, 1, 2, 3])
    files["test"] = out / "test.npz"
    np.savez(files["test"], X=d.X_test[m], y=d.y_test[m], classes=np.array([str(i) for i in range(10)]))
    files["dir"] = out
    return files


@pytest.fixture
def wide_digits(tmp_path):
    """A user .npz of 16x16 images (digits upsampled, 256 inputs: prepare gives them a PCA
    front-end) with training rows of classes 3, 4, 5 and every test row; returns its path."""
    from tinycil_host import datasets
    ds = datasets.load("digits")
    up = lambda X: np.kron(X.reshape(-1, 8, 8), np.ones((2, 2), np.float32)).reshape(-1, 256)
    keep = np.isin(ds.y_train, [3, 4, 5])
    path = tmp_path / "wide.npz"
    np.savez(path, X=np.concatenate([up(ds.X_train[keep]), up(ds.X_test)]),
             y=np.concatenate([ds.y_train[keep], ds.y_test]),
             split=np.r_[np.zeros(keep.sum()), np.ones(len(ds.y_test))].astype(np.uint8))
    return path
