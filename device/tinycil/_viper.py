# Machine-code kernels for ports with MicroPython's viper emitter (ESP32, RP2040, unix and
# most others). _pure.py imports this where it can and falls back to bytecode where not;
# the results are the same integers either way.
import micropython


@micropython.viper
def dot_i8(a: ptr8, ao: int, b: ptr8, bo: int, n: int) -> int:  # noqa: F821 (viper types)
    # sum of a[ao + j] * b[bo + j] over j < n, both int8 arrays (ptr8 reads them unsigned)
    s = 0
    for j in range(n):
        x = a[ao + j]
        y = b[bo + j]
        if x > 127:
            x -= 256
        if y > 127:
            y -= 256
        s += x * y
    return s


@micropython.viper
def xorshift_bytes(buf: ptr8, n: int, state: ptr32):  # noqa: F821 (viper types)
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
