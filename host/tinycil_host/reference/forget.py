"""Twin of device/tinycil/forget.py (FORMAT.md 7.9)."""


def forget(lrn, label):
    """Remove a class: its mean, replay samples and output unit (FORMAT.md 7.9)."""
    if label not in lrn.classes:
        raise ValueError("no class %r to forget; the learner knows %s" % (label, ", ".join(lrn.classes) or "none"))
    if len(lrn.classes) == 1:
        raise ValueError("%r is the learner's only class: make a new learner instead" % label)
    c = lrn.classes.index(label)
    lrn.replay.remove_class(c)
    lrn.net.remove_class(c)
    lrn.classes.pop(c)
    lrn._ncm_update()
    if lrn.path is not None:
        lrn.save()
    return list(lrn.classes)
