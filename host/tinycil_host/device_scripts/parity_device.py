# Runs under MicroPython for `tinycil parity`: the board's code on the host's inputs.
# usage: micropython parity_device.py WORKDIR
# Reads WORKDIR/input.json and WORKDIR/<name>.f32 (raw float32 arrays); writes
# WORKDIR/out_<name>.f32 and WORKDIR/output.json. Float arrays travel as raw float32
# bytes: exact, unlike printed decimals.
import sys
import json
import gc
from array import array

import tinycil
from tinycil import store
from tinycil.rng import Rng
from tinycil.distill import Distiller, herding_order
from tinycil.replay import Rows

W = sys.argv[1]
cfg = json.load(open(W + "/input.json"))
out = {}


def rd(name):
    with open(W + "/" + name + ".f32", "rb") as f:
        return array("f", f.read())


def wr(name, values):
    with open(W + "/out_" + name + ".f32", "wb") as f:
        f.write(bytes(array("f", values)))


def weights(net):
    B = net.B
    s = net.sizes
    v = []
    for l in range(len(net.W)):
        for i in range(s[l + 1]):
            v.extend(B.row(net.W[l], i, s[l]))
        v.extend(B.row(net.b[l], 0, s[l + 1]))
    return v


def logits(net, X, n, nf):
    B = net.B
    v = []
    i = 0
    while i < n:
        m = min(net.batch, n - i)
        for r in range(m):
            B.set_row(net.Xb, r, X[(i + r) * nf:(i + r + 1) * nf], nf)
        Z = net.forward(net.Xb, m)
        for r in range(m):
            v.extend(B.row(Z, r, net.n_classes))
        i += m
    return v


# random numbers
r = Rng(cfg["rng_seed"])
wr("rng", [r.uniform() for _ in range(cfg["rng_draws"])])
out["rng_below"] = [r.below(i + 1) for i in range(50)]
out["rng_state"] = r.state

# the host's file, read here and written back
l = tinycil.from_state(store.load_state(cfg["learner"], log=None), path=None, backend=cfg.get("backend"))
B = l.B
net = l.net
nf = l.n_features
out["backend"] = B.NAME
l.save(W + "/dev_f32")
l.save(W + "/dev_int8", weights="int8")

# forward pass (features in), and scores (inputs in the data set's units)
wr("forward", logits(net, rd("forward_x"), cfg["forward_n"], nf))
Xi = rd("scores_x")
ni = l.n_inputs
sc = []
for i in range(cfg["scores_n"]):
    sc.extend(l.scores(Xi[i * ni:(i + 1) * ni]))
wr("scores", sc)

# momentum SGD steps on one batch
Xs = rd("step_x")
m = cfg["step_m"]
for i in range(m):
    B.set_row(net.Xb, i, Xs[i * nf:(i + 1) * nf], nf)
net.reset_momentum()
out["step_loss"] = [net.step(net.Xb, cfg["step_labels"], cfg["step_weights"], m, cfg["lr"], cfg["mu"])
                    for _ in range(cfg["steps"])]
wr("step", weights(net))

# widening: weights after, and the function before/after
before = logits(net, rd("forward_x"), cfg["forward_n"], nf)
net.set_hidden(cfg["widen_to"], Rng(cfg["widen_seed"]))
wr("widen", weights(net))
after = logits(net, rd("forward_x"), cfg["forward_n"], nf)
out["widen_change"] = max([abs(a - b) for a, b in zip(before, after)])
out["widen_sizes"] = list(net.sizes)
l = net = None
gc.collect()

# distillation of one class from the same rows and seed (stored as int8 rows, as learn_class does)
T = rd("distill_t")
n = cfg["distill_n"]
k = cfg["distill_k"]
real = Rows(B, nf, n)
for i in range(n):
    real.put(i, T[i * nf:(i + 1) * nf])
order = herding_order(B, real, 0, n, k, B.herding_work(nf))
syn = B.zeros(k, nf)
buf = array("f", bytes(4 * nf))
for i, j in enumerate(order):
    real.values(j, buf)
    B.set_row(syn, i, buf, nf)
d = Distiller(B, nf, k, cfg["embed_dim"], cfg["distill_mu"] > 0)
first, last = d.run(real, 0, n, syn, k, Rng(cfg["distill_seed"]), cfg["distill_iters"], cfg["distill_lr"],
                    cfg["distill_mu"])
out["herding"] = order
out["distill_loss"] = [first, last]
v = []
for i in range(k):
    v.extend(B.row(syn, i, nf))
wr("distill", v)
real = syn = d = None
gc.collect()

# a whole learn_class from the same state and seed; its file is read on the host
l = tinycil.from_state(store.load_state(cfg["learner"], log=None), path=W + "/dev_learn", backend=cfg.get("backend"))
X = rd("learn_x")
ni = l.n_inputs
samples = (X[i * ni:(i + 1) * ni] for i in range(cfg["learn_n"]))  # a generator: read once
rep = l.learn_class(cfg["learn_label"], samples, target=cfg["learn_target"], verbose=False, seed=cfg["learn_seed"])
out["learn"] = dict((key, rep[key]) for key in ("accuracy", "hidden", "hidden_before", "train_loss", "distill_loss",
                                               "synthetic_samples", "held_out_kept", "validation_samples"))
# then more samples of the same class: an update (FORMAT.md 7); the file read on the host is after it
X2 = rd("update_x")
rep = l.learn_class(cfg["learn_label"], [X2[i * ni:(i + 1) * ni] for i in range(cfg["update_n"])], verbose=False)
out["update"] = dict((key, rep[key]) for key in ("accuracy", "hidden", "synthetic_samples", "held_out_kept",
                                                "distill_loss", "updated"))
l = None
gc.collect()


def learn_case(learner, folder, x, n, keys):
    """One learn_class of the shared case from a host-written learner; the report's `keys`."""
    l = tinycil.from_state(store.load_state(cfg[learner], log=None), path=W + "/" + folder, backend=cfg.get("backend"))
    rep = l.learn_class(cfg["learn_label"], (x[i * ni:(i + 1) * ni] for i in range(n)), target=cfg["learn_target"],
                        verbose=False, seed=cfg["learn_seed"])
    l = None
    gc.collect()
    return dict((key, rep[key]) for key in keys)


# the same learn_class with the nearest-mean head kept out of training (ncm_separate, FORMAT.md 4)
out["apart"] = learn_case("learner_apart", "dev_apart", X, cfg["learn_n"], ("accuracy", "hidden"))
# a learner still at width 0 (the nearest-mean head alone) whose check misses: it grows from 0
X = rd("zero_x")
out["zero"] = learn_case("learner_zero", "dev_zero", X, cfg["zero_n"], ("accuracy", "hidden", "hidden_before"))
# the same with grow_undo: its widening does not raise the check and is dropped again (FORMAT.md 7.6)
out["undo"] = learn_case("learner_undo", "dev_undo", X, cfg["zero_n"], ("accuracy", "hidden", "growth_stalled"))

with open(W + "/output.json", "w") as f:
    json.dump(out, f)
print("parity-device: ok")
