"""`tinycil prepare` end to end: the prepared learner works on the host and under MicroPython alike."""
import json

import numpy as np
import pytest

from tinycil_host import cli, datasets, mpy, store
from tinycil_host.prepare import input_scaling, prepare_learner
from tinycil_host.reference import Learner

PREDICT = """
import sys, tinycil
from array import array
l = tinycil.load(sys.argv[1], verbose=False)
X = array('f', open(sys.argv[2], 'rb').read())
n = l.n_inputs
print(' '.join(l.predict(X[i * n:(i + 1) * n]) for i in range(len(X) // n)))
"""


def _board_predictions(tmp_path, folder, X):
    (tmp_path / "x.f32").write_bytes(np.asarray(X, "<f4").tobytes())
    (tmp_path / "predict.py").write_text(PREDICT)
    r = mpy.run(tmp_path / "predict.py", args=[folder, tmp_path / "x.f32"], timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


def test_prepare_digits_end_to_end(tmp_path, digits, capsys):
    out = tmp_path / "learner"
    assert cli.main(["prepare", "--dataset", "digits", "--base-classes", "0,1,2", "--out", str(out),
                     "--replay-noise", "0.5"]) == 0
    text = capsys.readouterr().out
    for word in ("size search", "FLOPs/inference", "int8 weights", "bytes"):
        assert word in text
    s = json.loads((out / "prepare.json").read_text())
    assert s["base_classes"] == ["0", "1", "2"] and s["frontend"] is None
    assert s["size_search"][0]["hidden"] == 8 and s["hidden"][0] <= 32
    assert s["test_accuracy_float"] > 0.95
    assert abs(s["test_accuracy_int8"] - s["test_accuracy_float"]) <= 0.02
    st = store.decode((out / "learner.bin").read_bytes())
    assert st["classes"] == ["0", "1", "2"] and st["target"] == pytest.approx(s["target"])
    assert st["hyper"]["replay_noise"] == 0.5   # a board hyper-parameter, stored for learn_class
    assert len((out / "learner.bin").read_bytes()) == s["file_bytes_int8"]
    # a class's quota of 10 rows: its mean and 9 distilled samples
    assert st["replay"].q.shape[0] + len(st["means"].q) == sum(s["replay"]["samples_per_class"]) == 30
    # the board takes pixels as load_digits gives them (0..16), scaled by the file's SCAL chunk
    assert st["offset"].max() > 1 and np.all(st["scale"] > 0)
    m = np.isin(digits.y_test, [0, 1, 2])
    X, y = digits.X_test[m], digits.y_test[m]
    host = (Learner.load(out).predict_batch(X) == y).mean()
    assert host == pytest.approx(s["test_accuracy_int8"])
    board = np.array([int(p) for p in _board_predictions(tmp_path, out, X)])
    assert abs((board == y).mean() - host) <= 0.01


def test_input_scaling_standardizes():
    X = np.random.default_rng(0).normal(5, 3, (500, 4)).astype(np.float32)
    off, sc = input_scaling(X)
    Z = (X - off) * sc
    assert np.abs(Z.mean(0)).max() < 1e-4 and abs(Z.std() - 1) < 1e-3


def test_frontend_for_wide_inputs_runs_on_the_board(tmp_path, digits, wide_digits):
    # 256 inputs get a PCA front-end
    up = lambda X: np.kron(X.reshape(-1, 8, 8), np.ones((2, 2), np.float32)).reshape(-1, 256)
    s, lrn = prepare_learner(str(wide_digits), ["3", "4"], out=tmp_path / "l", features=16, base_epochs=10,
                             target=0.9, memory_bytes=800)
    assert s["frontend"]["features"] == 16 and lrn.n_features == 16
    assert s["flops_per_inference"] == 2 * 256 * 16 + 2 * (16 * s["hidden"][0] + s["hidden"][0] * 2) + 2 * 16 * 2
    assert s["test_accuracy_int8"] > 0.9
    st = store.decode((tmp_path / "l" / "learner.bin").read_bytes())
    assert len(st["frontend"]) == 1 and st["frontend"][0].q.dtype == np.int8
    m = np.isin(digits.y_test, [3, 4])
    Xt = up(digits.X_test[m])[:40]
    host = [lrn.classes[i] for i in lrn.predict_batch(Xt)]
    assert _board_predictions(tmp_path, tmp_path / "l", Xt) == host


def test_frontend_fitted_on_unlabelled_rows_from_a_file(tmp_path, digits, wide_digits):
    # the base is classes 3 and 4; the front-end also sees the other eight digits' rows, unlabelled
    up = lambda X: np.kron(X.reshape(-1, 8, 8), np.ones((2, 2), np.float32)).reshape(-1, 256)
    rows = up(digits.X_train)
    np.save(tmp_path / "rows.npy", rows)
    code = cli.main(["prepare", "--dataset", str(wide_digits), "--base-classes", "3,4", "--features", "8",
                     "--base-epochs", "2", "--memory-bytes", "800", "--frontend-data", str(tmp_path / "rows.npy"),
                     "--out", str(tmp_path / "l")])
    assert code == 0
    s = json.loads((tmp_path / "l" / "prepare.json").read_text())
    assert s["frontend"]["fitted_on"] == "%d unlabelled rows" % len(rows)
    lrn = Learner.load(tmp_path / "l")
    # whitened on those rows: unit variance over all ten digits (the int8 weights: to a few %)
    assert np.allclose(lrn.features(rows).std(axis=0), 1.0, atol=0.05)
    np.save(tmp_path / "narrow.npy", rows[:, :100])
    code = cli.main(["prepare", "--dataset", str(wide_digits), "--base-classes", "3,4", "--base-epochs", "1",
                     "--frontend-data", str(tmp_path / "narrow.npy"), "--out", str(tmp_path / "m")])
    assert code == 2 and not (tmp_path / "m").exists()


def test_a_random_projection_front_end_learns_no_direction_from_the_data(tmp_path, digits, wide_digits):
    # --frontend random: seeded +-1 directions, the same whatever the rows; each output centred and
    # scaled to unit variance on the rows it is fitted on; and the board runs it like a PCA
    from tinycil_host import frontend
    up = lambda X: np.kron(X.reshape(-1, 8, 8), np.ones((2, 2), np.float32)).reshape(-1, 256)
    a = frontend.fit_random(up(digits.X_train[:300]), 16, seed=3)[0]
    b = frontend.fit_random(up(digits.X_train[300:900]) * 2.0, 16, seed=3)[0]
    assert np.array_equal(np.sign(a.q), np.sign(b.q)) and set(np.abs(a.q).ravel().tolist()) == {127}
    assert not np.array_equal(np.sign(frontend.fit_random(up(digits.X_train[:300]), 16, seed=4)[0].q), np.sign(a.q))
    code = cli.main(["prepare", "--dataset", str(wide_digits), "--base-classes", "3,4", "--features", "8",
                     "--frontend", "random", "--base-epochs", "2", "--memory-bytes", "800", "--out", str(tmp_path / "l")])
    assert code == 0
    lrn = Learner.load(tmp_path / "l")
    ds = datasets.load(str(wide_digits))
    base = ds.X_train[np.isin(ds.y_train, [3, 4])]
    f = lrn.features(base)
    assert f.shape[1] == 8 and np.allclose(f.std(axis=0), 1.0, atol=0.1) and np.allclose(f.mean(axis=0), 0.0, atol=0.1)
    m = np.isin(ds.y_test, [3, 4])
    Xt = ds.X_test[m][:30]
    assert _board_predictions(tmp_path, tmp_path / "l", Xt) == [lrn.classes[i] for i in lrn.predict_batch(Xt)]


@pytest.mark.parametrize("argv,message", [
    (["--dataset", "nosuch"], "unknown dataset"),
    (["--dataset", "missing.npz"], "no such file"),
    (["--base-classes", "0,42"], "no training samples"), (["--base-classes", "0,seven"], "unknown class"),
    (["--base-classes", "0,0"], "given twice"),
    (["--memory-bytes", "10"], "cannot hold one sample"),
    (["--target", "1.5"], "between 0 and 1"),
    (["--frontend-data", "missing.npy"], "--frontend-data: missing.npy: not a readable"),
    ([], "--dataset is required: 'digits'"),  # no silent default data set
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    dataset = ["--dataset", "digits"] if argv and "--dataset" not in argv else []
    code = cli.main(["prepare", "--out", str(tmp_path / "x"), "--base-epochs", "1"] + dataset + argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
