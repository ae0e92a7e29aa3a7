# Integer kernels over int8 rows, shared by every backend: machine code (viper, _viper.py)
# where the port has it, the same loops as bytecode where not (relu_dots_py, rows_times_py).
# Floats never enter them, so on a board without a floating-point unit they cost a fraction
# of any float kernel.


def relu_dots_py(a, ao, rows, b, bo, cols, n, out):
    # out[i * cols + u] = max(0, a[ao + i n : +n] . b[bo + u n : +n])
    for i in range(rows):
        ai = ao + i * n
        for u in range(cols):
            bu = bo + u * n
            s = 0
            for j in range(n):
                s += a[ai + j] * b[bu + j]
            out[i * cols + u] = s if s > 0 else 0


def rows_times_py(d, rows, c, e, n, out):
    # out[r * n + j] = sum over u < c of d[r c + u] * e[u n + j]
    for r in range(rows):
        o = r * n
        for j in range(n):
            out[o + j] = 0
        for u in range(c):
            x = d[r * c + u]
            if x == 0:
                continue
            eu = u * n
            for j in range(n):
                out[o + j] += x * e[eu + j]


try:
    from ._viper import relu_dots, rows_times
except (ImportError, SyntaxError, ValueError):  # a port without the native emitter
    relu_dots, rows_times = relu_dots_py, rows_times_py
