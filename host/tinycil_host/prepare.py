"""`tinycil prepare`: the base learner a board starts from.

    summary, learner = prepare_learner("digits", [0, 1], out="build/learner")

1. input scaling from the base classes' training data (stored in SCAL, so the board
   takes samples in the data set's own units);
2. optional frozen front-end (frontend.py) for high-dimensional inputs;
3. model-size search: train at min_hidden, widen by grow_step (function-preserving)
   and retrain until the validation accuracy meets the target or max_hidden is reached;
   the target defaults to the fixed max_hidden model's validation accuracy minus a tolerance;
4. distil every base class into the replay set within memory_bytes;
5. int8 weights for the file, accuracy reported before and after quantization.
The returned learner is the one decoded from the written file: exactly what the board loads.
"""
import json
import time
from pathlib import Path

import numpy as np

from . import datasets, frontend, store
from .errors import UserError
from .progress import Bar
from .reference import BOARD_MAX_SAMPLES, HYPER, Learner, Net, Rng, balanced_accuracy, board_ram, distill_class


class PrepareError(UserError):
    """A data set, class list or learner option prepare cannot use."""


DEFAULTS = dict(max_hidden=32, min_hidden=8, grow_step=8, max_classes=16, n_layers=1, memory_bytes=6400)


# what each board hyper-parameter (device/tinycil/limits.py HYPER, FORMAT.md 2, 4-7) does
HYPER_HELP = {
    "lr": "learning rate of the board's SGD training in learn_class",
    "momentum": "SGD momentum of that training (0: plain SGD, no momentum buffers)",
    "epochs": "training epochs per learn_class (a refit after a widening runs half as many)",
    "batch": "mini-batch size of the training",
    "distill_iters": "distribution-matching iterations when a class is distilled into synthetic samples",
    "embed_dim": "size of the random embedding whose mean the distillation matches",
    "distill_lr": "step size of the distillation",
    "distill_momentum": "momentum of the distillation steps",
    "val_every": "every val_every-th sample of a learn_class call is held out for the accuracy check "
                 "(with fewer than 2*val_every samples none is)",
    "train_on_real": "1: train on the new class's real samples as well as the replay set; 0: replay set only",
    "max_per_class": "most samples a class keeps in the replay set (its mean plus distilled samples)",
    "replay_noise": "noise on the replay samples during training, relative to the new class's spread (0: off)",
    "ncm_weight": "weight of the nearest-class-mean head added to the network's logits",
    "ncm_separate": "1: train the network without the nearest-mean head (it joins to predict and check); 0: with it",
    "grow_undo": "1: drop a widening that did not raise the accuracy check again; 0: keep it",
}


def add_arguments(p):
    p.add_argument("--dataset", default=None,
                   help="the data set to prepare from (required): 'digits' (scikit-learn's 8x8 digits, offline), "
                        "a shared data set name (%s) or a .npz/.csv file" % ", ".join(datasets.SHARED_NAMES[:-1]))
    p.add_argument("--base-classes", default="0,1",
                   help="comma-separated class indices (or names) the learner starts with")
    p.add_argument("--out", default="build/learner", help="learner folder to write (learner.bin, prepare.json)")
    p.add_argument("--max-hidden", type=int, default=DEFAULTS["max_hidden"],
                   help="most hidden units per layer: the size search and the board's growth stop there")
    p.add_argument("--min-hidden", type=int, default=DEFAULTS["min_hidden"],
                   help="hidden units the size search starts from")
    p.add_argument("--grow-step", type=int, default=DEFAULTS["grow_step"],
                   help="hidden units one widening adds (on the host and on the board)")
    p.add_argument("--max-classes", type=int, default=DEFAULTS["max_classes"],
                   help="most classes the learner can hold (output units allocated on the board)")
    p.add_argument("--layers", type=int, default=DEFAULTS["n_layers"], help="hidden layers")
    p.add_argument("--memory-bytes", type=int, default=DEFAULTS["memory_bytes"],
                   help="replay budget in bytes: the distilled samples of every class share it")
    p.add_argument("--target", type=float, default=None,
                   help="validation accuracy the size search (and the board) aims at "
                        "(default: the fixed max-hidden model's minus --tolerance)")
    p.add_argument("--tolerance", type=float, default=0.02,
                   help="without --target, the target is the fixed max-hidden model's validation accuracy minus this")
    p.add_argument("--frontend", choices=("auto", "none") + tuple(frontend.FIT), default="auto",
                   help="frozen int8 front-end; auto = pca above %d inputs; random: seeded +-1 directions, "
                        "each output centred and scaled on the rows" % frontend.AUTO_ABOVE)
    p.add_argument("--features", type=int, default=32, help="front-end output size")
    p.add_argument("--frontend-data", metavar="PATH", default=None,
                   help="unlabelled input rows (.npy, or X of a .npz) to fit the front-end on instead of the base "
                        "classes' training rows, e.g. recordings of classes to come (default: the base rows)")
    p.add_argument("--base-epochs", type=int, default=30, help="epochs per width of the base training")
    p.add_argument("--seed", type=int, default=1,
                   help="seed of the learner's random generator (weights, splits, distillation)")
    for k, v in HYPER:
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v,
                       help="board hyper-parameter, stored in the file: " + HYPER_HELP[k])


def _dataset_choices():
    return ("'digits' (scikit-learn's bundled 8x8 digits, offline), a shared data set (%s, as <name>.npz in %s), "
            "or a .npz/.csv file of your own" % (", ".join(datasets.SHARED_NAMES[:-1]), datasets.data_dir()))


def run(args):
    if args.dataset is None:
        raise PrepareError("--dataset is required: %s; e.g. tinycil prepare --dataset digits" % _dataset_choices())
    hyper = {k: getattr(args, k) for k, _ in HYPER}
    try:
        rows = datasets.load_rows(args.frontend_data) if args.frontend_data else None
    except datasets.DatasetError as e:
        raise PrepareError("--frontend-data: %s" % e)
    summary, _ = prepare_learner(
        args.dataset, parse_classes(args.base_classes), out=args.out, max_hidden=args.max_hidden,
        min_hidden=args.min_hidden, grow_step=args.grow_step, max_classes=args.max_classes,
        n_layers=args.layers, memory_bytes=args.memory_bytes, target=args.target, tolerance=args.tolerance,
        frontend_kind=args.frontend, features=args.features, frontend_rows=rows, base_epochs=args.base_epochs,
        seed=args.seed, progress=True, **hyper)
    print_summary(summary)
    return 0


def parse_classes(text):
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise PrepareError("--base-classes needs at least one class, e.g. 0,1")
    return items


def _resolve(tokens, classes, present):
    idx = []
    for t in tokens:
        if isinstance(t, (int, np.integer)) or (isinstance(t, str) and t.lstrip("-").isdigit() and t not in classes):
            i = int(t)
        elif t in classes:
            i = classes.index(t)
        else:
            raise PrepareError("unknown class %r (classes: %s)" % (t, ", ".join(classes)))
        if not 0 <= i < len(classes) or i not in present:
            raise PrepareError("class %r has no training samples in this data set" % (t,))
        if i in idx:
            raise PrepareError("class %r given twice" % (t,))
        idx.append(i)
    return idx


def input_scaling(X):
    """offset = per-input mean, scale = 1 / overall standard deviation (one number for all inputs).

    One common scale keeps inputs that are nearly constant on the base classes (e.g. border
    pixels) from being blown up when a new class uses them.
    """
    X = np.asarray(X, dtype=np.float64)
    offset = X.mean(axis=0)
    std = float(np.sqrt(((X - offset) ** 2).mean()))
    scale = 1.0 / std if std > 0 else 1.0
    return offset.astype(np.float32), np.full(X.shape[1], scale, dtype=np.float32)


def prepare_learner(dataset="digits", base_classes=(0, 1), out=None, *, max_hidden=32, min_hidden=8,
                    grow_step=8, max_classes=16, n_layers=1, memory_bytes=6400, target=None, tolerance=0.02,
                    frontend_kind="auto", features=32, frontend_rows=None, base_epochs=30, seed=1,
                    val_fraction=0.2, progress=False, **hyper):
    """Build, size-search, distil and quantize a base learner; write it to folder `out` if given.

    dataset: a name/path for datasets.load, or a datasets.Dataset. base_classes: indices or names.
    frontend_rows: raw input rows the PCA front-end is fitted on instead of the base classes'
    training rows (unlabelled recordings, future classes' included: labels are never used).
    Returns (summary dict, reference Learner decoded from the int8 file).
    Raises PrepareError for anything the user can fix.
    """
    t0 = time.time()
    try:
        ds = dataset if isinstance(dataset, datasets.Dataset) else datasets.load(dataset)
    except datasets.DatasetError as e:
        raise PrepareError(str(e))
    idx = _resolve(list(base_classes), list(ds.classes), set(np.unique(ds.y_train).tolist()))
    if len(idx) + 0 > max_classes:
        raise PrepareError("%d base classes exceed --max-classes %d" % (len(idx), max_classes))
    names = [str(ds.classes[i]) for i in idx]
    for nm in names:
        if not 1 <= len(nm.encode("utf-8")) <= 40:
            raise PrepareError("class name %r must be 1..40 bytes" % nm)
    remap = {c: j for j, c in enumerate(idx)}
    tr = np.isin(ds.y_train, idx)
    X_all = ds.X_train[tr]
    y_all = np.array([remap[int(c)] for c in ds.y_train[tr]])
    X_tr, y_tr, X_val, y_val = datasets.validation_split(X_all, y_all, val_fraction, seed)
    te = np.isin(ds.y_test, idx)
    X_te, y_te = ds.X_test[te], np.array([remap[int(c)] for c in ds.y_test[te]], dtype=np.int64)

    offset, scale = input_scaling(X_tr)
    kind = frontend_kind
    if kind == "auto":
        kind = "pca" if ds.n_features > frontend.AUTO_ABOVE else "none"
    if kind != "none" and kind not in frontend.FIT:
        raise PrepareError("unknown front-end %r: auto, none or %s" % (kind, ", ".join(frontend.FIT)))
    if frontend_rows is not None and kind == "none":
        raise PrepareError("rows to fit the front-end on were given, but %d inputs get no front-end: "
                           "pass --frontend pca" % ds.n_features)
    fit_rows = X_tr if frontend_rows is None else np.asarray(frontend_rows, dtype=np.float32)
    if kind != "none" and fit_rows.shape[1:] != X_tr.shape[1:]:
        raise PrepareError("frontend_rows have %d inputs, the data set %d" % (fit_rows.shape[1], X_tr.shape[1]))
    front = frontend.FIT[kind]((fit_rows - offset) * scale, features, seed=seed) if kind != "none" else []
    try:
        lrn = Learner(ds.n_features, max_hidden=max_hidden, min_hidden=min_hidden, grow_step=grow_step,
                      max_classes=max_classes, n_layers=n_layers, memory_bytes=memory_bytes, target=0.0,
                      seed=seed, input_offset=offset, input_scale=scale, frontend=front, **hyper)
    except (TypeError, ValueError) as e:
        raise PrepareError(str(e))
    hp = lrn.hp
    quota = lrn.replay.quota(len(idx))
    if quota < 1:
        raise PrepareError("--memory-bytes %d holds %d samples of %d bytes: not one per base class"
                       % (memory_bytes, lrn.replay.capacity, lrn.n_features + 4))
    F_tr, F_val = lrn.features(X_tr), lrn.features(X_val)
    counts = np.bincount(y_tr, minlength=len(idx))
    w_tr = 1.0 / counts[y_tr]

    widths = list(range(min_hidden, max_hidden, grow_step)) + [max_hidden]
    fits = len(widths) + (1 if target is None else 0)
    bar = Bar(fits * base_epochs, "train", enabled=None if progress else False)

    def tick(e, total, loss):
        bar.update(1, "loss %.4f" % loss)

    # 2-3. every base class into its share of the replay budget: its mean and distilled rows
    d_losses = []
    for c, name in enumerate(names):
        _k, first, last = lrn.store_class(name, F_tr[y_tr == c], quota)
        d_losses.append((first, last))

    fixed_acc = None
    if target is None:
        # the fixed model: the same network at max_hidden from the start
        fixed = Net(lrn.n_features, max_hidden, max_classes, n_layers, hp["batch"])
        rng = Rng(seed + 1)
        fixed.set_hidden(max_hidden, rng)
        for _ in idx:
            fixed.add_class(rng)
        fixed.ncm = lrn.net.ncm  # the same nearest-mean head as the learner's
        fixed.fit(F_tr, y_tr, w_tr, base_epochs, hp["lr"], hp["momentum"], rng, tick)
        fixed_acc = balanced_accuracy(fixed.predict(F_val), y_val)
        target = max(0.0, fixed_acc - tolerance)
    if not 0.0 <= target <= 1.0:
        raise PrepareError("--target must be an accuracy between 0 and 1")
    lrn.target = float(np.float32(target))

    # 4-6. the size search: the learner's own train -> check -> grow, on the base classes' rows
    # (checked on their validation split) instead of the replay set
    search = []

    def retrain():
        try:
            return lrn.net.fit(F_tr, y_tr, w_tr, base_epochs, hp["lr"], hp["momentum"], lrn.rng, tick)
        except ArithmeticError as e:
            raise PrepareError("base training failed: %s" % e)

    def recheck():
        acc = balanced_accuracy(lrn.net.predict(F_val), y_val)
        search.append({"hidden": lrn.net.hidden[0], "val_accuracy": acc})
        return acc
    loss = retrain()
    lrn.grow(recheck(), loss, target, retrain, recheck, lambda s: None)
    bar.close()

    acc_float = _accuracy(lrn, X_te, y_te)
    data_int8 = store.encode(lrn.state(), store.ENC_INT8)
    data_f32 = store.encode(lrn.state(), store.ENC_F32)
    board = Learner.from_state(store.decode(data_int8), path=None, max_samples=lrn.max_samples)
    acc_int8 = _accuracy(board, X_te, y_te)
    if out is not None:
        store.save_bytes(out, data_int8)
        board.path = str(out)
    info = board.info()
    summary = {
        "dataset": ds.name, "base_classes": names, "n_inputs": ds.n_features, "input_shape": list(ds.input_shape),
        "n_features": lrn.n_features, "frontend": None if not front else {
            "kind": kind, "features": lrn.n_features, "flops": frontend.flops(front), "bytes": frontend.nbytes(front),
            "fitted_on": "base rows" if frontend_rows is None else "%d unlabelled rows" % len(fit_rows)},
        "hidden": info["hidden"], "max_hidden": max_hidden, "size_search": search,
        "fixed_val_accuracy": fixed_acc, "target": lrn.target, "params": info["params"],
        "flops_per_inference": info["flops_per_inference"],
        "fixed_flops_per_inference": 2 * sum(a * b for a, b in zip(
            [lrn.n_features] + [max_hidden] * n_layers, [max_hidden] * n_layers + [len(idx)])) + frontend.flops(front),
        "replay": {"samples_per_class": info["samples_per_class"], "bytes_used": info["memory_bytes_used"],
                   "budget": memory_bytes, "distill_loss": d_losses},
        "train_samples": int(len(y_tr)), "val_samples": int(len(y_val)), "test_samples": int(len(y_te)),
        "test_accuracy_float": acc_float, "test_accuracy_int8": acc_int8,
        "file_bytes_int8": len(data_int8), "file_bytes_f32": len(data_f32),
        # what the board allocates for this learner, loaded with the default max_samples (FORMAT.md 8)
        "board_ram": board_ram(ds.n_features, lrn.n_features, max_hidden, max_classes, n_layers, hp["batch"],
                               memory_bytes, hp["max_per_class"], hp["embed_dim"],
                               widest_frontend=max([f.n_out for f in front], default=0), val_every=hp["val_every"],
                               replay_noise=hp["replay_noise"]),
        "out": None if out is None else str(Path(out) / store.FILE), "seconds": round(time.time() - t0, 2),
    }
    if out is not None:
        (Path(out) / "prepare.json").write_text(json.dumps(summary, indent=1))
    return summary, board


def _accuracy(lrn, X, y):
    return float((lrn.predict_batch(X) == y).mean()) if len(y) else float("nan")


def evaluate_file(path, X, y):
    """Accuracy of the learner in folder/file `path` on rows X with class indices y (its own order)."""
    return _accuracy(Learner.load(path), np.asarray(X, np.float32), np.asarray(y))


def print_summary(s):
    fr = s["frontend"]
    print("prepared %s: base classes %s" % (s["dataset"], ", ".join(s["base_classes"])))
    print("  inputs      %d %s -> %s" % (s["n_inputs"], tuple(s["input_shape"]),
          "front-end %s to %d features (%d FLOPs, %d bytes int8)" % (fr["kind"], fr["features"], fr["flops"], fr["bytes"])
          if fr else "no front-end"))
    print("  size search %s" % ", ".join("hidden %d: val %.3f" % (r["hidden"], r["val_accuracy"]) for r in s["size_search"]))
    if s["fixed_val_accuracy"] is not None:
        print("  target      %.3f (fixed max-hidden model: val %.3f)" % (s["target"], s["fixed_val_accuracy"]))
    else:
        print("  target      %.3f (given)" % s["target"])
    print("  network     hidden %s of max %d, %d params, %d FLOPs/inference (fixed model: %d)"
          % (s["hidden"], s["max_hidden"], s["params"], s["flops_per_inference"], s["fixed_flops_per_inference"]))
    rp = s["replay"]
    print("  replay      %s samples per class, %d of %d bytes" % (rp["samples_per_class"], rp["bytes_used"], rp["budget"]))
    print("  accuracy    test %.4f float32, %.4f int8 weights (%d test samples)"
          % (s["test_accuracy_float"], s["test_accuracy_int8"], s["test_samples"]))
    print("  file        %s: %d bytes (int8 weights; %d with f32)" % (s["out"], s["file_bytes_int8"], s["file_bytes_f32"]))
    r = s["board_ram"]
    print("  board RAM   %.1f KB of buffers: network %.1f, replay %.1f, input %.1f, learn_class %.1f (max_samples %d)%s"
          % (r["total"] / 1024, r["net"] / 1024, r["replay"] / 1024, r["input"] / 1024, r["learn_class"] / 1024,
             BOARD_MAX_SAMPLES, "; plus the front-end's %.1f KB" % (fr["bytes"] / 1024) if fr else ""))
    print("  time        %.1f s" % s["seconds"])
