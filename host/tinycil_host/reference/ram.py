"""The bytes a board's Learner allocates (FORMAT.md section 8), counted on the host:
tests/test_ram.py checks them against the device code's real buffers."""
from ..limits import CHUNK, MAX_REPEATS, MAX_SAMPLES, NOISE_WINDOWS
from .samples import train_rows
from .replay import sample_bytes


def board_ram(n_inputs, n_features, max_hidden, max_classes, n_layers=1, batch=16, memory_bytes=6400,
              max_per_class=10, embed_dim=32, max_samples=MAX_SAMPLES, widest_frontend=0, val_every=5,
              replay_noise=0.0, momentum=0.0, distill_momentum=0.5):
    """Bytes of the buffers a board's Learner allocates with the pure backend, by FORMAT.md
    section 8 (front-end and interpreter overhead excluded): {"net", "replay", "input",
    "learn_class", "total"}."""
    nf, b, S, C = n_features, batch, max_samples, max_classes
    caps = [nf] + [max_hidden] * n_layers + [C]
    outs = caps[1:]
    weights = sum(o * i + o for o, i in zip(outs, caps))
    net = 4 * ((2 if momentum > 0 else 1) * weights + b * sum(outs) + b * sum(outs[:-1]) + b * nf + b + 2 * C)
    cap = memory_bytes // sample_bytes(nf)
    replay = (cap + C) * (nf + 4) + 2 * cap + 4 * C
    inp = 4 * (2 * n_inputs + max(n_inputs, nf, widest_frontend) + (max(nf, widest_frontend) if widest_frontend else 0))
    ve = val_every
    most = max(train_rows(S, ve), train_rows(min(S, 2 * ve - 1), ve))
    k = max(1, min(max_per_class - 1, most))
    ch = min(CHUNK, embed_dim)
    distiller = (ch * nf + k * nf + 4 * k + k * ch + 4 * k            # E, the int8 rows Sq and dq, their scales
                 + 4 * (max(most, k) * ch + k * nf)                   # the integer activations and gradient
                 + 4 * (2 * ch + (3 if distill_momentum > 0 else 2) * k * nf + 2 * nf)  # mT, d; S, G, (V); lo, hi
                 + 8 * 3 * nf)                                        # herding's scratch (doubles)
    order, noise = C + cap + S, 0
    if replay_noise > 0:   # 7.4: the stored rows repeated, and the noise table
        order = C + max(cap, min(MAX_REPEATS * cap, S * C)) + S
        noise = 4 * (NOISE_WINDOWS + nf - 1)
    x_rows = S + max(0, max_per_class - 1)  # the call's samples and an updated class's distilled rows
    work = (x_rows * (nf + 4) + 2 * (order + 3 * (C + cap + S)) + 8 * nf + nf + 6 * batch + noise
            + distiller)
    return {"net": net, "replay": replay, "input": inp, "learn_class": work, "total": net + replay + inp + work}
