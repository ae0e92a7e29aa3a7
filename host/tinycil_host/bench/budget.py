"""What a board affords: replay bytes as a share of the training set, the RAM of a learner's
buffers, the widest network that fits (the defaults every method starts from), and what the
chosen learner takes on a board (results.json's "deploy")."""
from .. import frontend
from ..reference import HYPER, MAX_SAMPLES, board_ram, sample_bytes
from .settings import FLASH_LIMIT, N_FEATURES, RAM_LIMIT, WIDTHS


def budget_bytes(n_train, n_features, percent):
    """`percent` of the training set as the board stores replay samples: every training sample
    as int8 values in the learner's input space (after the front-end) plus a float32 scale."""
    return int(n_train * sample_bytes(n_features) * percent / 100.0)


def ram_estimate(n_inputs, n_features, max_hidden, max_classes, hp, n_new, memory_bytes):
    """Bytes of the buffers a board allocates for the trainable part and one learn_class call
    (reference.board_ram, FORMAT.md section 8, checked against the device code by
    tests/test_ram.py) for a learner taking n_new samples per call (max_samples = n_new);
    interpreter overhead, the front-end and the caller's raw samples are excluded (the
    last listed separately)."""
    ram = board_ram(n_inputs, n_features, max_hidden, max_classes, batch=hp["batch"],
                    replay_noise=hp.get("replay_noise", 0.0),
                    memory_bytes=memory_bytes, max_per_class=hp["max_per_class"], embed_dim=hp["embed_dim"],
                    max_samples=n_new)
    ram["raw_samples_f32"] = 4 * n_new * n_inputs
    return ram


def learner_defaults(D, st, nf_out=None):
    """Widths from the board's RAM budget (not tuned): the widest max_hidden in WIDTHS
    whose buffers fit RAM_LIMIT; min_hidden 8 and grow_step 8 (select_target picks others); the board's other defaults.
    nf_out: the front-end's output size (default N_FEATURES; select_features picks another)."""
    nf_out = nf_out or N_FEATURES.get(D.name, 32 if D.n_features > 128 else None)
    nf = nf_out or D.n_features
    hp = dict(HYPER)
    n_classes = len(D.classes)
    mem = budget_bytes(len(D.y_train), nf, st["memory_percent"])
    # max_per_class never binds before the byte budget does (any sweep size)
    cap = budget_bytes(len(D.y_train), nf, max([st["memory_percent"]] + st["sweep"])) // sample_bytes(nf)
    hp["max_per_class"] = max(1, min(MAX_SAMPLES, cap))
    # the width must fit whichever replay_noise validation picks (noise takes a little more RAM)
    fit = dict(hp, replay_noise=max([hp["replay_noise"]] + list(st["select"].get("replay_noise", []))))
    for H in WIDTHS:
        if ram_estimate(D.n_features, nf, H, n_classes, fit, st["new_per_class"], mem)["total"] <= RAM_LIMIT:
            break
    d = {"max_hidden": H, "min_hidden": 8, "grow_step": 8, "max_classes": n_classes,
         "lr": hp["lr"], "epochs": hp["epochs"], "distill_lr": hp["distill_lr"], "max_per_class": hp["max_per_class"],
         "replay_noise": hp["replay_noise"], "ncm_weight": hp["ncm_weight"], "ncm_separate": hp["ncm_separate"]}
    return d, nf_out, nf


def deploy_info(base, D, st, hyper):
    lrn = base.prepared.get("ours") or base.lrn0
    flash = frontend.nbytes(lrn.frontend) if lrn.frontend else 0
    hp = dict(lrn.hp, max_per_class=hyper["max_per_class"])
    ram = ram_estimate(D.n_features, lrn.n_features, hyper["max_hidden"], len(D.classes), hp, st["new_per_class"],
                       budget_bytes(base.n_train_full, lrn.n_features, st["memory_percent"]))
    per_pct = {}
    for p in sorted({st["memory_percent"]} | set(st["sweep"])):
        mb = budget_bytes(base.n_train_full, lrn.n_features, p)
        per_pct[str(p)] = ram_estimate(D.n_features, lrn.n_features, hyper["max_hidden"], len(D.classes), hp,
                                       st["new_per_class"], mb)["total"]
    return {"ram_total_by_percent": per_pct, "frontend_bytes_int8": flash, "frontend_fits_flash": flash <= FLASH_LIMIT, "ram": ram,
            "ram_fits": ram["total"] <= RAM_LIMIT, "max_hidden": hyper["max_hidden"],
            "frontend": ("%s %d -> %d, int8" % (frontend.NAMES[st.get("frontend_kind", "pca")],
                                                 D.n_features, lrn.n_features)) if lrn.frontend else "none",
            "target": lrn.target, "base_hidden": list(lrn.net.hidden)}
