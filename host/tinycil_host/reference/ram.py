"""The bytes a board's Learner allocates (FORMAT.md section 8), counted on the host:
tests/test_ram.py checks them against the device code's real buffers."""
from .learner import BOARD_MAX_SAMPLES, train_rows
from .noise import MAX_REPEATS, NOISE_WINDOWS
from .replay import sample_bytes


def board_ram(n_inputs, n_features, max_hidden, max_classes, n_layers=1, batch=16, memory_bytes=6400,
              max_per_class=10, embed_dim=32, max_samples=BOARD_MAX_SAMPLES, widest_frontend=0, val_every=5,
              replay_noise=0.0):
    """Bytes of the buffers a board's Learner allocates, by FORMAT.md section 8 (front-end and
    interpreter overhead excluded): {"net", "replay", "input", "learn_class", "total"}."""
    nf, b, S = n_features, batch, max_samples
    caps = [nf] + [max_hidden] * n_layers + [max_classes]
    outs = caps[1:]
    net = 4 * (2 * sum(o * i + o for o, i in zip(outs, caps)) + b * sum(outs) + b * sum(outs[:-1]) + b * nf)
    cap = memory_bytes // sample_bytes(nf)
    replay = cap * (nf + 4 + 2)
    inp = 4 * (2 * n_inputs + max(n_inputs, nf, widest_frontend) + max(nf, widest_frontend))
    ve = val_every
    k, ch = min(max_per_class, max(train_rows(S, ve), train_rows(min(S, 2 * ve - 1), ve))), min(8, embed_dim)
    distiller = 4 * (ch * nf + 2 * k * ch + 2 * ch + 3 * k * nf + 2 * nf) + 8 * 3 * nf
    order, noise = cap + S, 0
    if replay_noise > 0:   # 7.4: the replay rows repeated, and the noise table
        order, noise = max(cap, min(MAX_REPEATS * cap, S * max_classes)) + S, 4 * (NOISE_WINDOWS + nf - 1)
    work = 4 * S * nf + 2 * (order + 2 * (cap + S)) + 4 * nf + noise + distiller
    return {"net": net, "replay": replay, "input": inp, "learn_class": work, "total": net + replay + inp + work}
