# A call's samples into a learner's int8 rows (FORMAT.md 7.0 and 7.1): each sample checked,
# scaled, passed through the front-end and quantized; then training rows first, held-out
# rows after. The first call of a learner made without input scaling learns it here.
from .limits import MAX_ABS, MAX_LABEL_BYTES, MIN_SAMPLES
from .rng import f32

_INF = float("inf")


def check_label(label):
    if not isinstance(label, str):
        raise TypeError("label must be a str, got %s" % type(label).__name__)
    if not label or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise ValueError("label must be 1 to %d bytes of text" % MAX_LABEL_BYTES)


def take(l, samples, X):
    """Every sample into learner l's int8 rows X in arrival order; returns how many."""
    if isinstance(samples, (str, bytes, bytearray, dict)) or not _iterable(samples):
        raise TypeError("samples must be an iterable of samples (sequences of %d numbers)" % l.n_inputs)
    n = 0
    for x in samples:
        if n >= l.max_samples:
            raise ValueError("samples: more than %d given, this learner takes at most %d per call "
                             "(max_samples)" % (l.max_samples, l.max_samples))
        X.put_row(n, feature_row(l, x, lambda: "samples[%d]" % n), 0)
        n += 1
    if n < MIN_SAMPLES:
        raise ValueError("samples: %d given, at least %d are needed to learn a class" % (n, MIN_SAMPLES))
    return n


def feature_row(l, x, what):
    """Check one sample, scale it into l._xin, run the front-end; returns the backend row
    (1 x n_features) holding the features. `what` names the sample in error messages (a
    string, or a function making it: most samples never need one)."""
    ni = l.n_inputs
    n = _length(x)
    if n is None or isinstance(x, (str, bytes, bytearray, dict)):
        raise TypeError("%s must be a sequence of %d numbers, got %s" % (_name(what), ni, type(x).__name__))
    if n != ni:
        raise ValueError("%s has %d values, expected %d" % (_name(what), n, ni))
    off = l.offset
    sc = l.scale
    if l.B.scale_row(x, off, sc, l._x, ni):  # a typed array in range: no per-value checks needed
        return l._x if l._frontend is None else l._frontend.apply(l._x, l._y)
    v = l._xin
    for j in range(ni):
        a = x[j]
        t = type(a)
        if t is not float and t is not int:  # bool, str, None, ulab scalars: the careful path
            a = number(a, what, j)
        a = (a - off[j]) * sc[j]
        if not -MAX_ABS <= a <= MAX_ABS:  # NaN and inf fail this too
            _out_of_range(a, what, j)
        v[j] = a
    if l._frontend is None:
        return l._x
    return l._frontend.apply(l._x, l._y)


def train_rows(n, ve):
    """Training rows of a call with n samples (FORMAT.md 7.1)."""
    return n - n // ve if ve > 1 and n >= 2 * ve else n


def partition(X, park, done, n, ve):
    """Reorder rows 0..n-1 of X so the training rows (i % ve != ve - 1) come first and the
    held-out rows after them, each in sample order (FORMAT.md 7.1): a permutation applied
    cycle by cycle through one parked row (park), no second copy of the samples; done is
    scratch of n marks."""
    nf = X.n_feat
    n_train = n - n // ve
    for i in range(n):
        done[i] = 0

    def source(j):  # the sample that ends at row j
        if j < n_train:
            return (j // (ve - 1)) * ve + j % (ve - 1)
        return (j - n_train) * ve + ve - 1
    for start in range(n):
        if done[start]:
            continue
        park[:] = X.q[start * nf:(start + 1) * nf]
        s0 = X.scale[start]
        j = start
        while True:
            done[j] = 1
            src = source(j)
            if src == start:
                X.q[j * nf:(j + 1) * nf] = park
                X.scale[j] = s0
                break
            X.copy(src, j)
            j = src


def learn_scaling(l, samples):
    """FORMAT.md 7.0 (prepare's rule): offset = each input's mean over the samples, scale =
    1 / their overall standard deviation, set on learner l. Two passes over the samples, so
    they must be readable twice: a list, an array, not a generator. Samples that are not
    numbers leave the placeholders (0, 1) for take() to report."""
    if iter(samples) is samples:
        raise TypeError("the first learn_class of a learner made without input_scale reads its samples "
                        "twice, to learn the input scaling: pass a list (or give input_scale)")
    ni = l.n_inputs
    off, sc = l.offset, l.scale
    unscale(l)
    n = 0
    for x in samples:  # pass 1: the means (and the values checked, as take checks them)
        what = lambda: "samples[%d]" % n  # noqa: E731
        if _length(x) != ni:
            return
        for j in range(ni):
            a = x[j]
            t = type(a)
            if t is not float and t is not int:
                a = number(a, what, j)
            if not -3e38 <= a <= 3e38:
                _out_of_range(a, what, j)
            off[j] += a
        n += 1
    if n == 0:
        return
    for j in range(ni):
        off[j] /= n
    ss = 0.0
    for x in samples:  # pass 2: the squared deviations from them
        for j in range(ni):
            d = x[j] - off[j]
            ss += d * d
    std = (ss / (n * ni)) ** 0.5
    s = f32(1.0 / std) if std > 0.0 else 1.0
    for j in range(ni):
        sc[j] = s


def unscale(l):
    # the input scaling back to its placeholders (still to be learned): a refused first call
    for j in range(l.n_inputs):
        l.offset[j] = 0.0
        l.scale[j] = 1.0


def number(a, what, j):
    # a value that is not a float or an int: a number when float() takes it, except bool and text
    if isinstance(a, bool) or isinstance(a, (str, bytes, bytearray)):  # float() would parse "1.5"
        raise TypeError("%s[%d] is not a number (%s)" % (_name(what), j, type(a).__name__))
    try:
        return float(a)  # ulab scalars
    except (TypeError, ValueError):
        raise TypeError("%s[%d] is not a number (%s)" % (_name(what), j, type(a).__name__))


def _out_of_range(a, what, j):
    if a != a or a == _INF or a == -_INF:
        raise ValueError("%s[%d] is not finite" % (_name(what), j))
    raise ValueError("%s[%d] is %g after input scaling; values must lie within +-%g" % (_name(what), j, a, MAX_ABS))


def _name(what):
    return what() if callable(what) else what


def _iterable(x):
    try:
        iter(x)
        return True
    except TypeError:
        return False


def _length(x):
    # MicroPython's built-in sequences have no __len__ attribute to test for
    try:
        return len(x)
    except TypeError:
        return None
