# Machine-code kernels for ports with MicroPython's viper emitter (ESP32, RP2040, unix and
# most others): integer loops over int8 rows. _int8.py imports this where it can and falls
# back to bytecode where not; the results are the same integers either way.
import micropython


@micropython.viper
def relu_dots(a: ptr8, ao: int, rows: int, b: ptr8, bo: int, cols: int, n: int, out: ptr32):  # noqa: F821
    # out[i * cols + u] = max(0, a[ao + i n : +n] . b[bo + u n : +n]) for i < rows, u < cols;
    # a and b are int8 arrays (ptr8 reads them unsigned: (v ^ 128) - 128 is the signed value)
    for i in range(rows):
        ai = ao + i * n
        for u in range(cols):
            p = ai
            q = bo + u * n
            e = p + n
            e4 = e - (n & 3)
            s = 0
            while p < e4:  # four products per pass: a third fewer loop tests and jumps
                s += (((a[p] ^ 128) - 128) * ((b[q] ^ 128) - 128)
                      + ((a[p + 1] ^ 128) - 128) * ((b[q + 1] ^ 128) - 128)
                      + ((a[p + 2] ^ 128) - 128) * ((b[q + 2] ^ 128) - 128)
                      + ((a[p + 3] ^ 128) - 128) * ((b[q + 3] ^ 128) - 128))
                p += 4
                q += 4
            while p < e:
                s += ((a[p] ^ 128) - 128) * ((b[q] ^ 128) - 128)
                p += 1
                q += 1
            out[i * cols + u] = s if s > 0 else 0


@micropython.viper
def rows_times(d: ptr8, rows: int, c: int, e: ptr8, n: int, out: ptr32):  # noqa: F821
    # out[r * n + j] = sum over u < c of d[r c + u] * e[u n + j]: int8 rows times an int8 matrix
    n4 = n - (n & 3)
    for r in range(rows):
        o = r * n
        j = 0
        while j < n:
            out[o + j] = 0
            j += 1
        for u in range(c):
            x = (d[r * c + u] ^ 128) - 128
            if x == 0:
                continue
            q = u * n
            j = 0
            while j < n4:  # unrolled by four as in relu_dots
                k = o + j
                m = q + j
                out[k] += x * ((e[m] ^ 128) - 128)
                out[k + 1] += x * ((e[m + 1] ^ 128) - 128)
                out[k + 2] += x * ((e[m + 2] ^ 128) - 128)
                out[k + 3] += x * ((e[m + 3] ^ 128) - 128)
                j += 4
            while j < n:
                out[o + j] += x * ((e[q + j] ^ 128) - 128)
                j += 1


@micropython.viper
def nonzero_f32(x: ptr32, n: int, out: ptr16) -> int:  # noqa: F821
    # the indices j < n where the float32 x[j] is not zero, into out; returns how many. A
    # float32 is zero (+0.0 or -0.0) exactly when its bits but the sign are all zero; a NaN
    # counts as nonzero, as x[j] != 0.0 says
    m = uint(0x7FFFFFFF)  # not a small int on a 32-bit port: a constant viper must cast
    k = 0
    j = 0
    while j < n:
        if uint(x[j]) & m:
            out[k] = j
            k += 1
        j += 1
    return k


@micropython.viper
def xorshift_bytes(buf: ptr8, n: int, state: ptr32):  # noqa: F821
    # FORMAT.md 3's fill_bytes on machine words: n bytes of xorshift32 draws, four per draw,
    # little-endian, into buf; state[0] is the generator's state before and after
    x = uint(state[0])
    m = uint(0xFFFFFFFF)  # a 64-bit port's machine word is wider than the generator's
    i = 0
    while i < n:
        x ^= (x << 13) & m
        x ^= x >> 17
        x ^= (x << 5) & m
        j = 0
        while j < 4 and i < n:
            buf[i] = (x >> (8 * j)) & 0xFF
            i += 1
            j += 1
    state[0] = x
