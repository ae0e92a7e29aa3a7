"""Twin of device/tinycil/state.py: a learner to and from the state dicts of
tinycil_host.store (FORMAT.md 2)."""
import copy

import numpy as np

from .. import store

F32 = np.float32


def to_state(lrn):
    """The plain state dict of tinycil_host.store (what the file holds)."""
    s = lrn.net.sizes
    st = {
        "n_inputs": lrn.n_inputs, "n_features": lrn.n_features, "max_hidden": lrn.max_hidden,
        "min_hidden": lrn.min_hidden, "grow_step": lrn.grow_step, "max_classes": lrn.net.caps[-1],
        "n_layers": len(s) - 2, "hidden": s[1], "memory_bytes": lrn.replay.budget,
        "target": lrn.target, "rng_state": lrn.rng.state, "ncm_var": lrn.ncm_var, "calls": lrn.calls,
        "flags": store.FLAG_SCALE_PENDING if lrn.scale_pending else 0,
        "hyper": dict(lrn.hp), "classes": list(lrn.classes),
        "offset": lrn.offset.copy(), "scale": lrn.scale.copy(), "frontend": list(lrn.frontend),
        "dense": [(W.copy(), b.copy()) for W, b in zip(lrn.net.W, lrn.net.b)],
        "replay": copy.deepcopy(lrn.replay.samples),
        "means": copy.deepcopy(lrn.replay.means), "counts": lrn.replay.counts.copy(),
    }
    return st


def apply(lrn, st):
    """Set learner lrn's weights, classes, means and replay set from a state dict."""
    net = lrn.net
    net.sizes = [lrn.n_features] + [st["hidden"]] * st["n_layers"] + [len(st["classes"])]
    if st["hidden"] > lrn.max_hidden or len(st["classes"]) > net.caps[-1]:
        raise store.FormatError("file exceeds the learner's capacity")
    net.W = [np.array(W, dtype=F32) for W, _ in st["dense"]]
    net.b = [np.array(b, dtype=F32) for _, b in st["dense"]]
    net.reset_momentum()
    lrn.classes = list(st["classes"])
    rp = st["replay"]
    if len(rp.cls) > lrn.replay.capacity:
        raise store.FormatError("replay set larger than its budget")
    lrn.replay.samples = copy.deepcopy(rp)
    lrn.replay.means = copy.deepcopy(st["means"])
    lrn.replay.counts = np.array(st["counts"], np.uint32)
    lrn.ncm_var = float(st["ncm_var"])
    lrn.calls = int(st["calls"]) or len(lrn.classes)  # a version 1 or 2 file: one call per class
    lrn.scale_pending = bool(st["flags"] & store.FLAG_SCALE_PENDING)
    lrn.offset, lrn.scale = np.array(st["offset"], F32), np.array(st["scale"], F32)
    lrn.rng.state = st["rng_state"] or 1
    lrn._ncm_update()
