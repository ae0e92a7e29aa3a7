# A learner to and from the state dicts store.py writes and reads (FORMAT.md 2): which
# buffer goes into which chunk, and back.
from . import store
from .limits import HYPER


def to_state(lrn):
    """Learner lrn as the state dict store.write encodes (FORMAT.md 2)."""
    net = lrn.net
    B = lrn.B
    hp = lrn.hp
    s = net.sizes
    dense = []
    for l in range(len(net.W)):
        dense.append((s[l + 1], s[l], _row_getter(B, net.W[l], s[l]), B.row(net.b[l], 0, s[l + 1])))
    head = (lrn.n_inputs, lrn.n_features, lrn.max_hidden, lrn.min_hidden, lrn.grow_step,
            net.caps[-1], len(s) - 2, net.hidden[0], lrn.replay.budget, lrn.target, lrn.rng.state,
            1 if lrn.scale_pending else 0, lrn.calls, lrn.ncm_var)
    hypr = tuple(hp[k] for k, _ in HYPER)
    fe = lrn._frontend
    st = {"head": head, "hypr": hypr, "classes": lrn.classes, "offset": lrn.offset,
          "scale": lrn.scale, "frontend": fe.state() if fe is not None else [], "dense": dense,
          "replay": lrn.replay}
    if fe is not None and fe.streamed():
        st["frontend_at"] = []  # store.write_to notes where the weights land
    return st


def apply(lrn, st):
    """Set learner lrn's weights, classes, means and replay set from a decoded file state
    (store.decode's); lrn was made with the file's sizes."""
    B = lrn.B
    net = lrn.net
    head = st["head"]
    n_layers = head[6]
    width = head[7]
    if len(st["dense"]) != n_layers + 1:
        raise store.FormatError("file has %d dense layers, expected %d" % (len(st["dense"]), n_layers + 1))
    n_classes = len(st["classes"])
    sizes = [lrn.n_features] + [width] * n_layers + [n_classes]
    for l, layer in enumerate(st["dense"]):
        if layer[0] != sizes[l + 1] or layer[1] != sizes[l]:
            raise store.FormatError("dense layer %d is %dx%d, expected %dx%d"
                                    % (l, layer[0], layer[1], sizes[l + 1], sizes[l]))
    if width > lrn.max_hidden or n_classes > net.caps[-1]:
        raise store.FormatError("file exceeds the learner's capacity")
    net.sizes = sizes
    for l, layer in enumerate(st["dense"]):
        B.fill(net.W[l], net.caps[l + 1], net.caps[l], 0.0)
        B.fill(net.b[l], 1, net.caps[l + 1], 0.0)
        i = 0
        for w, b in store.dense_rows(layer):
            B.set_row(net.W[l], i, w, len(w))
            B.put(net.b[l], 0, i, b)
            i += 1
    net.reset_momentum()
    lrn.classes = list(st["classes"])
    rp = lrn.replay
    nf = st["replay"][0]
    if nf != lrn.n_features:
        raise store.FormatError("replay samples have %d features, expected %d" % (nf, lrn.n_features))
    rp.n = 0
    for c, s, q in store.replay_rows(st["replay"]):
        if c >= n_classes:
            raise store.FormatError("replay sample of unknown class %d" % c)
        rp.add_raw(c, s, q)
    rp.n_means = 0
    for c, s, q, count in store.mean_rows(st, n_classes):
        rp.set_mean_raw(c, s, q, count)
    lrn.scale_pending = bool(head[11] & 1)
    lrn.calls = head[12] or len(lrn.classes)  # a version 1 or 2 file: one call per class
    lrn.ncm_var = head[13]
    lrn.rng.state = head[10] or 1
    # the file's input scaling (a first call that failed may have set other values)
    for a, ref in ((lrn.offset, st["offset"]), (lrn.scale, st["scale"])):
        j = 0
        for v in store.f32_values(ref):
            a[j] = v
            j += 1
    lrn._ncm_update()
    fe = lrn._frontend
    if st.get("file") and fe is not None and fe.streamed():  # read from the file it now names
        fe.point(st["file"], [f[0] for f in st["frontend"]])


def _row_getter(B, M, n):
    return lambda i: B.row(M, i, n)
