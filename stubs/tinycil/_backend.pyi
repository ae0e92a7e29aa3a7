"""The backend contract: what device/tinycil/_pure.py and _ulab.py each provide, and a third
backend must. Learner code reaches the kernels only through these names (backend.get()).
Matrices are the backend's own type (pure: a list of array('f') rows; ulab: 2-D ndarrays);
outputs are written in place into buffers the caller preallocated; only the constructors
(zeros, int8_*, herding_work, pool_view) make new objects.
tests/test_backend_contract.py checks both modules against this file: same names, same
parameters. The one-line contracts are the pure implementation's docstrings."""
from typing import Any

NAME: str  # "pure", "ulab", ...

def zeros(rows: Any, cols: Any) -> Any:
    """a new rows x cols float matrix of zeros (the only matrix constructor)"""

def get(M: Any, i: Any, j: Any) -> Any:
    """M[i, j] as a Python float"""

def put(M: Any, i: Any, j: Any, v: Any) -> Any:
    """M[i, j] = v (rounded to the backend's float)"""

def float_row(n: Any) -> Any:
    """(a float array of n values, a 1-row matrix over it): the array is the matrix's row"""

def row(M: Any, i: Any, n: Any) -> Any:
    """the first n values of row i as a new list of floats"""

def scale_row(x: Any, off: Any, sc: Any, M: Any, n: Any) -> Any:
    """M[0, :n] = (x - off) * sc and True when x is a typed array (array.array, a float ndarray) whose
    scaled values are finite and within +-MAX_ABS; else False, M untouched or partly written, and the
    caller's checked loop does the work (and names the bad value)"""

def set_row(M: Any, i: Any, values: Any, n: Any) -> Any:
    """M[i, :n] = values[:n], in place"""

def copy_row(src: Any, si: Any, dst: Any, di: Any, n: Any) -> Any:
    """dst[di, :n] = src[si, :n], in place"""

def fill(M: Any, rows: Any, cols: Any, v: Any) -> Any:
    """M[:rows, :cols] = v, in place"""

def fill_uniform(M: Any, r0: Any, r1: Any, c0: Any, c1: Any, rng: Any, scale: Any) -> Any:
    """rows r0..r1-1, columns c0..c1-1, row by row, each U(-1,1)*scale"""

def round_f32(M: Any, r0: Any, r1: Any, cols: Any) -> Any:
    """rows are array('f'): already float32"""

def linear(X: Any, W: Any, b: Any, Y: Any, m: Any, n_in: Any, n_out: Any, relu: Any) -> Any:
    """Y[:m,:n_out] = X[:m,:n_in] @ W[:n_out,:n_in].T + b[0,:n_out]"""

def sgd_linear(W: Any, V: Any, b: Any, Vb: Any, X: Any, dY: Any, m: Any, n_in: Any, n_out: Any, lr: Any, mu: Any) -> Any:
    """one dense layer's SGD step with its gradient G = dY.T @ X folded in (no gradient matrix"""

def relu_mask(dH: Any, H: Any, m: Any, n: Any) -> Any:
    """dH[:m, :n] = 0 where H[:m, :n] <= 0, in place (the ReLU gradient)"""

def softmax_rows(Z: Any, m: Any, n: Any, lse: Any = ...) -> Any:
    """rows of Z to their softmax in place; lse[r] = log(sum(exp(Z[r]))) of the logits when given"""

def xent_delta(Z: Any, labels: Any, w: Any, m: Any, n: Any, inv: Any) -> Any:
    """softmax rows to d loss / d logits: Z[r] = (Z[r] - onehot(labels[r])) * w[r] * inv"""

def sgd(W: Any, V: Any, G: Any, rows: Any, cols: Any, lr: Any, mu: Any) -> Any:
    """with V: V = mu*V - lr*G ; W += V. Without (V None): W -= lr*G. In place."""

def matmul_acc(D: Any, W: Any, G: Any, m: Any, n_in: Any, n_out: Any) -> Any:
    """G[:m,:n_in] += D[:m,:n_out] @ W[:n_out,:n_in]: a layer's input gradient, added in place"""

def col_mean(H: Any, m: Any, n: Any, out: Any) -> Any:
    """out[0, :n] = the mean of H[:m, :n] over its m rows (out: a 1-row matrix)"""

def axpy(Y: Any, X: Any, rows: Any, cols: Any, alpha: Any) -> Any:
    """Y[:rows, :cols] += alpha * X[:rows, :cols], in place"""

def fill_rows(D: Any, src: Any, m: Any, n: Any, scale: Any) -> Any:
    """every row of D[:m,:n] = src[0,:n] * scale"""

def clip_rows(M: Any, m: Any, n: Any, lo: Any, hi: Any) -> Any:
    """M[:m, j] clipped to [lo[0, j], hi[0, j]] for every column j < n, in place (lo, hi: 1-row matrices)"""

def sumsq(M: Any, rows: Any, cols: Any) -> Any:
    """the sum of squares of M[:rows, :cols] as a Python float"""

def all_finite(M: Any, rows: Any, cols: Any) -> Any:
    """True when every value of M[:rows, :cols] is finite"""

def argmax_rows(Z: Any, m: Any, n: Any, out: Any, o: Any = ...) -> Any:
    """out[o + r] = index of the largest of row r of Z[:m,:n]"""

def pool_view(q: Any, rows: Any, cols: Any) -> Any:
    """the pool's flat array('b') is what the int8 kernels index (nothing to build)"""

def gather_rows(X: Any, r0: Any, P: Any, idx: Any, scales: Any, i0: Any, m: Any, nf: Any) -> Any:
    """rows r0..r0+m-1 of X = pool rows idx[i0..i0+m-1] (int8), each times its scales[i0 + r]"""

def add_window(X: Any, r: Any, t: Any, o: Any, nf: Any, a: Any) -> Any:
    """row r of X += a * t[o:o+nf] (replay noise, FORMAT.md 7.4)"""

def linear_q(X: Any, P: Any, p0: Any, a: Any, b: Any, Y: Any, m: Any, nf: Any, n: Any) -> Any:
    """Y[:m,:n] += a[c] * (X[r] . P[p0 + c]) + b[c]: the nearest-mean head's logits (FORMAT.md 4)"""

def col_range_q(P: Any, p0: Any, n: Any, nf: Any, sc: Any, lo: Any, hi: Any) -> Any:
    """lo[0,j], hi[0,j] = min and max of feature j over pool rows p0..p0+n-1 (dequantized)"""

def herding_work(nf: Any) -> Any:
    """the herding kernel's scratch: class mean, running sum, one row, in doubles like the host"""

def herding(P: Any, p0: Any, n: Any, sc: Any, nf: Any, k: Any, work: Any) -> Any:
    """FORMAT.md 5.1: indices (0..n-1) of k of rows p0..p0+n-1 chosen greedily so their running"""

def mean_sq(P: Any, p0: Any, n: Any, sc: Any, nf: Any, mean: Any) -> Any:
    """mean[j] = the mean of feature j over rows p0..p0+n-1 (summed in the runtime's float, then"""

def int8_matrix(data: Any, rows: Any, cols: Any) -> Any:
    """data: bytes-like of rows*cols signed bytes (front-end weights stay int8 in RAM);"""

def int8_buffer(Wq: Any) -> Any:
    """the raw bytes of an int8_matrix, for writing (an array is a buffer: no copy)"""

def int8_scratch(n: Any) -> Any:
    """n signed bytes to read front-end rows from a file into (readinto fills it in place)"""

def int8_view(buf: Any, rows: Any, cols: Any) -> Any:
    """an int8_scratch as a rows x cols int8_matrix: the same flat array (qlinear indexes it)"""

def qlinear(x: Any, Wq: Any, scales: Any, bias: Any, y: Any, n_in: Any, n_out: Any, relu: Any, i0: Any = ...) -> Any:
    """one sample, rows 0..n_out-1 of Wq giving outputs i0..i0+n_out-1:"""

def add_int_rows(G: Any, gi: Any, s: Any, k: Any, n: Any) -> Any:
    """G[r, j] += s[r] * gi[r n + j] for r < k, j < n (gi: integer rows, s: their scales)"""

def quantize_row(M: Any, i: Any, n: Any, q: Any, o: Any) -> Any:
    """row i of M (n values) into q[o..o+n-1] by the int8 rule; returns its float32 scale"""

def quantize_rows(M: Any, k: Any, n: Any, q: Any, scales: Any) -> Any:
    """rows 0..k-1 of M (n values each) into the int8 array q (row-major) and scales, by the int8 rule"""

def row_scales(sc: Any, p0: Any, n: Any) -> Any:
    """the real rows' scales as dm_chunk takes them (here: the array itself)"""

def dm_chunk(P: Any, p0: Any, n: Any, sc: Any, Sq: Any, ss: Any, k: Any, E: Any, c: Any, nf: Any, pre: Any, w: Any, G: Any) -> Any:
    """one chunk of c units of distribution matching (FORMAT.md 5): the real rows' and the"""
