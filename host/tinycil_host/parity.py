"""`tinycil parity`: the device code under MicroPython against the NumPy reference.

Both sides get the same inputs, weights and seeds (randomness comes from the shared
xorshift32 of FORMAT.md section 3, never from ulab's or NumPy's generators) and the
results are compared operation by operation.

Tolerances. The reference computes in float32. The unix port computes every
expression in float64 and rounds to float32 when it stores into array('f') (ulab on
the unix port likewise computes in float64). One float32 rounding is a relative error
of at most u = 2^-24 = 6e-8; a dot product of n terms accumulated in float32 is off by
at most about n*u of the sum of |terms| (n <= 64 here: 4e-6, typically far less).
Errors are measured relative to the largest magnitude of the reference result
(max |dev - ref| / max |ref|), since elementwise ratios are meaningless near zero.
- forward, scores, SGD steps: one or two layers of dot products -> 1e-5 (about 150 u).
- widening: new weights are exact float32 draws times sqrt(6/fan_in), rounded once on
  both sides; old weights are copied -> exact (0).
- distillation: 40 momentum-SGD iterations of the samples; the error of each iteration
  is carried into the next but not amplified (lr 1, the matching loss is smooth) -> 1e-4.
- learn_class: distillation plus hundreds of SGD steps; rounding differences accumulate
  roughly linearly with the number of steps -> 1e-3 on weights and replay values.
- integer results (random draws, herding indices, widths, replay int8 values except
  where a float32 rounding flips a round-half, file bytes of a given state): exact.
"""
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from . import datasets, mpy, store
from .cli import CliError
from .reference import Learner, Rng, distill, herding_order

SCRIPT = Path(__file__).parent / "device_scripts" / "parity_device.py"
TOL = {"exact": 0.0, "forward": 1e-5, "distill": 1e-4, "learn": 1e-3}


def add_arguments(p):
    p.add_argument("--micropython", default=None,
                   help="MicroPython interpreter (default: the `micropython` installed by the project)")
    p.add_argument("--backend", choices=("ulab", "pure"), default=None,
                   help="device kernels to use (default: the best the interpreter has)")
    p.add_argument("--keep", default=None, help="keep the exchanged files in this folder (default: a temporary folder, removed after)")


def run(args):
    rows, backend = check(args.micropython, backend=args.backend, keep=args.keep)
    print_table(rows, backend, args.micropython or mpy.default_interpreter())
    bad = [r for r in rows if not r["ok"]]
    if bad:
        print("parity: %d mismatch(es): %s" % (len(bad), ", ".join(r["op"] for r in bad)))
        return 1
    print("parity: all %d checks within tolerance" % len(rows))
    return 0


# ---- the cases, built on the host --------------------------------------------------
def _base_learner(ds):
    """A small learner with two classes, trained by the reference: the state both sides start from."""
    lrn = Learner(ds.n_features, max_hidden=16, min_hidden=8, grow_step=8, max_classes=8, memory_bytes=1400,
                  target=0.5, seed=11, input_offset=8.0, input_scale=1 / 8.0, epochs=6, distill_iters=10,
                  replay_noise=0.5)  # learn_class then repeats the replay rows 4 times, with noise (7.4)
    for c in (0, 1):
        lrn.learn_class(ds.classes[c], ds.X_train[ds.y_train == c][:25])
    return lrn


def _cases(ds, lrn):
    f32 = np.float32
    X2 = ds.X_test[ds.y_test == 2]
    feats = lrn.features(ds.X_test[:20])
    return {
        "rng_seed": 12345, "rng_draws": 1000,
        "forward_x": feats, "forward_n": len(feats),
        "scores_x": ds.X_test[:10].astype(f32), "scores_n": 10,
        "step_x": feats[:12], "step_m": 12, "step_labels": [int(v) % 2 for v in ds.y_test[:12]],
        "step_weights": [1.0 + (i % 3) for i in range(12)], "lr": 0.05, "mu": lrn.hp["momentum"], "steps": 2,
        "widen_to": 16, "widen_seed": 99,
        "distill_t": lrn.features(X2[:30]), "distill_n": 30, "distill_k": 6, "distill_seed": 7,
        "embed_dim": 32, "distill_iters": 40, "distill_lr": 0.3, "distill_mu": 0.5,
        "learn_x": ds.X_train[ds.y_train == 2][:30].astype(f32), "learn_n": 30, "learn_label": "two",
        "learn_seed": 5, "learn_target": 1.0,  # an unreachable target makes it grow, to cover growth
        "update_x": ds.X_train[ds.y_train == 2][30:50].astype(f32), "update_n": 20,  # then an update of it
        # a "class" half of which is an old class: the width-0 learner misses and grows from 0
        "zero_x": np.concatenate([ds.X_train[ds.y_train == 8][:15], ds.X_train[ds.y_train == 1][25:40]]).astype(f32),
        "zero_n": 30,
    }


def _write_inputs(work, cfg):
    js = {}
    for k, v in cfg.items():
        if isinstance(v, np.ndarray):
            v.astype("<f4").tofile(work / (k + ".f32"))
        else:
            js[k] = v
    return js


def _reference(cfg, lrn, zero, undo):
    """The same operations on the reference, from the same state."""
    res = {}
    r = Rng(cfg["rng_seed"])
    res["rng"] = np.array([r.uniform() for _ in range(cfg["rng_draws"])], np.float32)
    res["rng_below"] = [r.below(i + 1) for i in range(50)]
    res["rng_state"] = r.state
    net = Learner.from_state(lrn.state()).net
    res["forward"] = net.forward(cfg["forward_x"]).ravel()
    res["scores"] = lrn.scores_batch(cfg["scores_x"]).ravel()
    net.reset_momentum()
    res["step_loss"] = [net.step(cfg["step_x"], cfg["step_labels"], cfg["step_weights"], cfg["lr"], cfg["mu"])
                        for _ in range(cfg["steps"])]
    res["step"] = _net_flat(net)
    before = net.forward(cfg["forward_x"])
    shapes = [(W.shape, b.shape) for W, b in zip(net.W, net.b)]
    net.set_hidden(cfg["widen_to"], Rng(cfg["widen_seed"]))
    res["widen"] = _net_flat(net)

    def widen_from(flat):
        # widening is exact: apply it to the device's own post-step weights
        n = Learner.from_state(lrn.state()).net
        pos = 0
        for l, ((ws, bs), _) in enumerate(zip(shapes, n.W)):
            n.W[l] = flat[pos:pos + ws[0] * ws[1]].reshape(ws).astype(np.float32)
            pos += ws[0] * ws[1]
            n.b[l] = flat[pos:pos + bs[0]].astype(np.float32)
            pos += bs[0]
        n.reset_momentum()
        n.set_hidden(cfg["widen_to"], Rng(cfg["widen_seed"]))
        return _net_flat(n)
    res["widen_from"] = widen_from
    res["widen_change"] = float(np.abs(net.forward(cfg["forward_x"]) - before).max())
    res["widen_sizes"] = list(net.sizes)
    T = store.dequantize_rows(*store.quantize_rows(cfg["distill_t"]))  # int8 rows, as the board holds them
    res["herding"] = herding_order(T, cfg["distill_k"])
    S, first, last = distill(T, T[res["herding"]], Rng(cfg["distill_seed"]), cfg["distill_iters"],
                             cfg["embed_dim"], cfg["distill_lr"], cfg["distill_mu"])
    res["distill"] = S.ravel()
    res["distill_loss"] = [first, last]
    learner = Learner.from_state(lrn.state())
    rep = learner.learn_class(cfg["learn_label"], cfg["learn_x"], target=cfg["learn_target"], seed=cfg["learn_seed"])
    res["learn"] = rep
    res["update"] = learner.learn_class(cfg["learn_label"], cfg["update_x"])
    res["learn_state"] = learner.state()
    apart = Learner.from_state(_head_apart(lrn))
    res["apart"] = apart.learn_class(cfg["learn_label"], cfg["learn_x"], target=cfg["learn_target"],
                                     seed=cfg["learn_seed"])
    res["apart_state"] = apart.state()
    res["zero"] = zero.learn_class(cfg["learn_label"], cfg["zero_x"], target=cfg["learn_target"], seed=cfg["learn_seed"])
    res["zero_state"] = zero.state()
    undoing = Learner.from_state(undo)
    res["undo"] = undoing.learn_class(cfg["learn_label"], cfg["zero_x"], target=cfg["learn_target"],
                                      seed=cfg["learn_seed"])
    res["undo_state"] = undoing.state()
    return res


def _zero_learner(ds):
    """A learner made with min_hidden 0 whose two classes the nearest-mean head alone learns: width 0."""
    lrn = Learner(ds.n_features, max_hidden=16, min_hidden=0, grow_step=8, max_classes=8, memory_bytes=1400,
                  target=0.5, seed=13, input_offset=8.0, input_scale=1 / 8.0, epochs=6, distill_iters=10,
                  ncm_weight=1.0)
    for c in (0, 1):
        lrn.learn_class(ds.classes[c], ds.X_train[ds.y_train == c][:25])
    return lrn


def _undoing(lrn):
    """The learner's state with grow_undo (FORMAT.md 7.6): the width-0 case's widening does not
    raise its check, so it is dropped again."""
    st = lrn.state()
    st["hyper"] = dict(st["hyper"], grow_undo=1)
    return st


def _head_apart(lrn):
    """The base learner's state with a strong nearest-mean head kept out of training (FORMAT.md 4)."""
    st = lrn.state()
    st["hyper"] = dict(st["hyper"], ncm_separate=1, ncm_weight=1.0)
    return st


def _flat(layers):
    """(weights, bias) pairs, layer by layer, as one vector: a state's "dense", or a net's."""
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in layers])


def _net_flat(net):
    return _flat(zip(net.W, net.b))


# ---- comparison ---------------------------------------------------------------------
def _row(op, dev, ref, tol):
    dev = np.asarray(dev, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if dev.shape != ref.shape:
        return {"op": op, "abs": float("inf"), "rel": float("inf"), "tol": tol, "ok": False,
                "note": "shape %s vs %s" % (dev.shape, ref.shape)}
    err = float(np.abs(dev - ref).max()) if dev.size else 0.0
    mag = float(np.abs(ref).max()) if ref.size else 0.0
    rel = err / mag if mag > 0 else err
    return {"op": op, "abs": err, "rel": rel, "tol": tol, "ok": bool(np.isfinite(rel) and rel <= tol), "note": ""}


def _same(op, dev, ref, note=""):
    ok = dev == ref
    return {"op": op, "abs": 0.0 if ok else float("nan"), "rel": 0.0 if ok else float("nan"), "tol": 0.0,
            "ok": bool(ok), "note": note if ok else "%s: %r vs %r" % (note, _short(dev), _short(ref))}


def _short(v):
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


def _device_file(work, sub, case, rows):
    """(state, bytes) of the learner file the board wrote in work/sub; (None, None) with a failing
    row added to `rows` when it is missing or does not decode."""
    try:
        data = (work / sub / store.FILE).read_bytes()
        return store.decode(data, "device learner.bin (%s)" % case), data
    except (OSError, store.FormatError) as e:
        rows.append({"op": "%s: device file" % case, "abs": float("nan"), "rel": float("nan"), "tol": 0.0,
                     "ok": False, "note": str(e)})
        return None, None


def compare(work, cfg, ref, host_f32, host_int8):
    out = json.loads((work / "output.json").read_text())

    def dev(name):
        return np.fromfile(work / ("out_%s.f32" % name), dtype="<f4")

    rows = [
        _row("rng: 1000 uniform draws", dev("rng"), ref["rng"], TOL["exact"]),
        _same("rng: below() and state", (out["rng_below"], out["rng_state"]), (ref["rng_below"], ref["rng_state"])),
        _row("forward (logits)", dev("forward"), ref["forward"], TOL["forward"]),
        _row("scores (scaling+softmax)", dev("scores"), ref["scores"], TOL["forward"]),
        _row("sgd: 2 momentum steps, loss", out["step_loss"], ref["step_loss"], TOL["forward"]),
        _row("sgd: 2 momentum steps, weights", dev("step"), ref["step"], TOL["forward"]),
        _same("widen: sizes", out["widen_sizes"], ref["widen_sizes"]),
        _row("widen: weights", dev("widen"), ref["widen"], TOL["forward"]),
        _row("widen: same weights widened", dev("widen"), ref["widen_from"](dev("step")), TOL["exact"]),
        _row("widen: output change (device)", [out["widen_change"]], [0.0], TOL["exact"]),
        _same("distill: herding order", out["herding"], ref["herding"]),
        _row("distill: synthetic samples", dev("distill"), ref["distill"], TOL["distill"]),
        _row("distill: matching loss", out["distill_loss"], ref["distill_loss"], TOL["distill"]),
    ]
    # learn_class: the board's file, read here
    st, dev_bytes = _device_file(work, "dev_learn", "learn_class", rows)
    if st is None:
        return rows, out.get("backend", "?")
    rs = ref["learn_state"]
    rep = out["learn"]
    rows += [
        _same("learn_class: widths, classes", (rep["hidden_before"], rep["hidden"], st["classes"]),
              (ref["learn"]["hidden_before"], ref["learn"]["hidden"], rs["classes"])),
        _same("learn_class: samples kept (distilled, held out)", (rep["synthetic_samples"], rep["held_out_kept"]),
              (ref["learn"]["synthetic_samples"], ref["learn"]["held_out_kept"])),
        _same("learn_class: rng state after", st["rng_state"], rs["rng_state"]),
        _row("learn_class: weights", _flat(st["dense"]), _flat(rs["dense"]), TOL["learn"]),
        _row("learn_class: replay values", st["replay"].values(), rs["replay"].values(), TOL["learn"]),
        _row("learn_class: distill loss", rep["distill_loss"], ref["learn"]["distill_loss"], TOL["learn"]),
        _row("learn_class: accuracy", [rep["accuracy"]], [ref["learn"]["accuracy"]], TOL["exact"]),
        _same("update: widths, rows kept, accuracy",
              (out["update"]["updated"], out["update"]["hidden"], out["update"]["synthetic_samples"],
               out["update"]["held_out_kept"], out["update"]["accuracy"]),
              (ref["update"]["updated"], ref["update"]["hidden"], ref["update"]["synthetic_samples"],
               ref["update"]["held_out_kept"], ref["update"]["accuracy"])),
        _same("file: host f32 -> board -> f32", (work / "dev_f32" / store.FILE).read_bytes(), host_f32,
              "byte-identical"),
        _same("file: host state -> board int8", (work / "dev_int8" / store.FILE).read_bytes(), host_int8,
              "byte-identical"),
        _same("file: board file -> host -> board", store.encode(st, store.ENC_F32), dev_bytes, "byte-identical"),
    ]
    sep, _ = _device_file(work, "dev_apart", "head apart", rows)
    if sep is None:
        return rows, out.get("backend", "?")
    ra = ref["apart_state"]
    rows += [
        _row("head apart: learn_class weights", _flat(sep["dense"]), _flat(ra["dense"]), TOL["learn"]),
        _same("head apart: widths, accuracy", (out["apart"]["hidden"], out["apart"]["accuracy"], sep["hyper"]["ncm_separate"]),
              (ref["apart"]["hidden"], ref["apart"]["accuracy"], 1)),
    ]
    zero, _ = _device_file(work, "dev_zero", "from width 0", rows)
    if zero is None:
        return rows, out.get("backend", "?")
    rz = ref["zero_state"]
    rows += [
        _same("from width 0: widths", (out["zero"]["hidden_before"], out["zero"]["hidden"]),
              (ref["zero"]["hidden_before"], ref["zero"]["hidden"])),
        # a ratio of counts: one sample apart is >= 1/n; the tolerance only absorbs a float32 quotient
        _row("from width 0: accuracy", [out["zero"]["accuracy"]], [ref["zero"]["accuracy"]], TOL["forward"]),
        _row("from width 0: learn_class weights", _flat(zero["dense"]), _flat(rz["dense"]), TOL["learn"]),
        _same("from width 0: the case grows from 0", (ref["zero"]["hidden_before"], ref["zero"]["hidden"][-1] > 0),
              (0, True)),
    ]
    undo, _ = _device_file(work, "dev_undo", "grow_undo", rows)
    if undo is None:
        return rows, out.get("backend", "?")
    ru = ref["undo_state"]
    rows += [
        _same("grow_undo: widths, stalled", (out["undo"]["hidden"], out["undo"]["growth_stalled"], undo["hidden"]),
              (ref["undo"]["hidden"], ref["undo"]["growth_stalled"], ru["hidden"])),
        _row("grow_undo: accuracy, weights", [out["undo"]["accuracy"]] + list(_flat(undo["dense"])),
             [ref["undo"]["accuracy"]] + list(_flat(ru["dense"])), TOL["learn"]),
        # the case exercises the undo: the width-0 case's widening is dropped again
        _same("grow_undo: the widening is dropped", (ref["undo"]["growth_stalled"], ref["undo"]["hidden"]),
              (True, [0])),
    ]
    return rows, out.get("backend", "?")


def check(interpreter=None, backend=None, keep=None):
    """Run every case on both sides; returns (rows, backend name). Raises CliError if MicroPython fails."""
    ds = datasets.load("digits")
    lrn = _base_learner(ds)
    cfg = _cases(ds, lrn)
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tinycil-parity-"))
    try:
        work.mkdir(parents=True, exist_ok=True)
        for sub in ("host", "host_apart", "host_zero", "dev_f32", "dev_int8", "dev_learn", "dev_apart", "dev_zero",
                    "host_undo", "dev_undo"):
            shutil.rmtree(work / sub, ignore_errors=True)
        host_f32 = store.encode(lrn.state(), store.ENC_F32)
        host_int8 = store.encode(lrn.state(), store.ENC_INT8)
        store.save_bytes(work / "host", host_f32)
        js = _write_inputs(work, cfg)
        js["learner"] = str(work / "host")
        store.save_bytes(work / "host_apart", store.encode(_head_apart(lrn), store.ENC_F32))
        js["learner_apart"] = str(work / "host_apart")
        zero = _zero_learner(ds)
        if zero.net.sizes[1] != 0:
            raise CliError("parity: the width-0 case grew while learning its base classes (width %d)" % zero.net.sizes[1])
        store.save_bytes(work / "host_zero", store.encode(zero.state(), store.ENC_F32))
        js["learner_zero"] = str(work / "host_zero")
        undo = _undoing(zero)
        store.save_bytes(work / "host_undo", store.encode(undo, store.ENC_F32))
        js["learner_undo"] = str(work / "host_undo")
        js["backend"] = backend
        (work / "input.json").write_text(json.dumps(js))
        try:
            r = mpy.run(SCRIPT, args=[str(work)], interpreter=interpreter, timeout=900)
        except (OSError, FileNotFoundError) as e:
            raise CliError("cannot run MicroPython %s: %s" % (interpreter or "", e))
        if r.returncode != 0 or "parity-device: ok" not in r.stdout:
            tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
            raise CliError("the device side failed under %s: %s" % (interpreter or mpy.default_interpreter(),
                                                                   " | ".join(tail)))
        ref = _reference(cfg, lrn, zero, undo)
        return compare(work, cfg, ref, host_f32, host_int8)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def print_table(rows, backend, interpreter):
    print("tinycil parity: %s (backend %s) vs NumPy float32 reference" % (interpreter, backend))
    w = max(len(r["op"]) for r in rows)
    print("%-*s  %10s  %10s  %8s  %s" % (w, "operation", "max abs", "max rel", "tol", "result"))
    for r in rows:
        print("%-*s  %10.3g  %10.3g  %8.0e  %s%s" % (w, r["op"], r["abs"], r["rel"], r["tol"],
                                                    "ok" if r["ok"] else "MISMATCH",
                                                    ("  " + r["note"]) if r["note"] else ""))
