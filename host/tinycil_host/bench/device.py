"""The device-code repeat of `tinycil bench`: ours on one data set, from one prepared learner
file, run by the NumPy reference and by the device package under MicroPython, compared after
every step. (Heap and time on boards are `tinycil bench-device`, boards.py.)"""
import copy
import json
import os
import subprocess
import tempfile
import time

import numpy as np

from .. import datasets, mpy
from .protocol import Base, as_run, prepare_bases

DEVICE_SCRIPT = r"""
import sys, json
sys.path.insert(0, '')
import tinycil
data = sys.argv[1]
l = tinycil.load(data + '/learner', verbose=False)
f = open(data + '/stream.jsonl')
test = json.loads(f.readline())
out = []
def score():
    hit = 0
    pred = []
    for x in test['X']:
        pred.append(l.predict(x))
    return pred
out.append({'step': 0, 'pred': score()})
while True:
    line = f.readline()
    if not line:
        break
    item = json.loads(line)
    r = l.learn_class(item['label'], item['X'], verbose=False)
    out.append({'step': len(out), 'pred': score(), 'hidden': r['hidden'], 'accuracy': r['accuracy']})
    print(json.dumps(out[-1]))
"""


def device_repeat(split, st, hyper, nf_out, out_dir, n_new, n_test):
    """Run `ours` for order 0 twice from the same prepared base file and the same samples: the
    device package under the unix MicroPython port (pure backend; and $MICROPYTHON when it names
    a ulab build) and the NumPy reference; compare accuracies after every step."""
    st2 = dict(st, new_per_class=n_new)
    order = split.order(0, st["seed"])
    base = Base(split, order, st["memory_percent"], st2, hyper)
    prepare_bases(base, split, st2, nf_out, ["ours"])
    lrn = base.prepared["ours"]
    rng = np.random.default_rng(st["seed"] + 99)
    seen_all = np.isin(split.D.y_test, order)
    idx = np.flatnonzero(seen_all)
    idx = np.sort(rng.permutation(idx)[:n_test])
    Xt, yt = split.D.X_test[idx], split.D.y_test[idx]
    res = {"dataset": split.D.name, "order": order, "new_per_class": n_new, "test_rows": int(len(yt)), "runs": {}}
    # NumPy reference
    t0 = time.time()
    l = copy.deepcopy(lrn)
    names = l.classes
    ref_steps = [_step_acc(l.classes, [names[i] for i in l.predict_batch(Xt)], yt, split.D.classes, order[:base.n_base])]
    for c in base.new_classes:
        l.learn_class(split.D.classes[c], base.new_X[c])
        ref_steps.append(_step_acc(l.classes, [l.classes[i] for i in l.predict_batch(Xt)], yt, split.D.classes,
                                   order[:base.n_base + len(ref_steps)]))
    res["runs"]["numpy"] = {"acc_steps": ref_steps, "seconds": round(time.time() - t0, 1),
                            "hidden": list(l.net.hidden)}
    interps = [("pure", None)]
    if mpy.ulab_interpreter():
        interps.append(("ulab", mpy.ulab_interpreter()))
    with tempfile.TemporaryDirectory() as tmp:
        lrn.save(os.path.join(tmp, "learner"))
        with open(os.path.join(tmp, "stream.jsonl"), "w") as f:
            f.write(json.dumps({"X": Xt.tolist()}) + "\n")
            for c in base.new_classes:
                f.write(json.dumps({"label": split.D.classes[c], "X": base.new_X[c].tolist()}) + "\n")
        script = os.path.join(tmp, "run.py")
        with open(script, "w") as f:
            f.write(DEVICE_SCRIPT)
        for label, interp in interps:
            t0 = time.time()
            try:
                backend = mpy.backend_of(interp)
                r = mpy.run(script, args=[tmp], interpreter=interp, timeout=1800)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                res["runs"][label] = {"error": str(e)}
                continue
            if r.returncode != 0:
                res["runs"][label] = {"error": r.stderr.strip()[-800:]}
                continue
            # step 0 is not printed; recompute it from the reference (same file, same weights)
            steps = [ref_steps[0]]
            hidden = None
            for line in r.stdout.splitlines():
                if line.startswith("{"):
                    item = json.loads(line)
                    k = len(steps)
                    steps.append(_step_acc(None, item["pred"], yt, split.D.classes, order[:base.n_base + k]))
                    hidden = item["hidden"]
            res["runs"][label] = {"backend": backend, "acc_steps": steps, "seconds": round(time.time() - t0, 1),
                                  "hidden": hidden}
            if len(steps) == len(ref_steps):
                res["runs"][label]["max_abs_diff_points"] = 100 * float(np.max(np.abs(np.array(steps) - ref_steps)))
                res["runs"][label]["final_diff_points"] = 100 * float(steps[-1] - ref_steps[-1])
    return res


def repeat_as_run(results, st, loaded, out_dir):
    """device_repeat on the data set st["device_repeat"] names, with the hyperparameters and
    front-end size its main run chose (the defaults when it had none); a failure is recorded
    in the result, not raised, so the benchmark's other results are still written."""
    name = st["device_repeat"]
    D = loaded.get(name) or datasets.load(name)
    info = results["datasets"].get(name, {}).get("info", {})
    defaults, nf_out, split = as_run(D, st, info)
    hyper = info.get("hyper") or defaults
    try:
        return device_repeat(split, st, hyper, nf_out, out_dir, n_new=50, n_test=200)
    except (ValueError, ArithmeticError, OSError, RuntimeError) as e:
        return {"dataset": name, "error": str(e)[:500]}


def _step_acc(_classes, pred_names, yt, class_names, seen):
    m = np.isin(yt, seen)
    truth = np.array([class_names[c] for c in yt[m]])
    pred = np.array(pred_names)[m]
    return float((pred == truth).mean())
