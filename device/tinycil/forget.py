# Forgetting a class (FORMAT.md 7.9): rare, so imported only when it happens.


def forget(l, label):
    """Remove class `label` from learner l and save it (atomically, like every save); on any
    failure the learner is restored from its file (or snapshot) as it was."""
    if not isinstance(label, str) or label not in l.classes:
        raise ValueError("no class %r to forget; the learner knows %s" % (label, ", ".join(l.classes) or "none"))
    if len(l.classes) == 1:
        raise ValueError("%r is the learner's only class: make a new learner instead" % label)
    c = l.classes.index(label)
    snapshot = None if l.path is not None else l._snapshot()
    try:
        l.replay.remove_class(c)
        l.net.remove_class(c)
        l.classes.pop(c)
        l._ncm_update()
        if l.path is not None:
            l.save()
    except BaseException as e:
        l._restore(snapshot, e, False)
        raise
    return list(l.classes)
