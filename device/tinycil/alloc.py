# Zeroed arrays made in one heap block. array(t, bytes(k * n)) first makes a bytes object
# as large as the array beside it: on a tight, fragmented heap (a board after importing
# the package) the pair needs two free blocks where the array needs one, and the spent
# bytes object leaves a hole where it stood.
from array import array

_SIZE = {"b": 1, "B": 1, "H": 2, "h": 2, "i": 4, "I": 4, "f": 4, "d": 8}


def zeroed(typecode: str, n: int) -> "array":
    """An array of n zeros of `typecode` ("b", "H", "f", ...); its item type is the
    typecode's, so the annotation leaves it open."""
    try:
        # MicroPython sizes the array from len(range) and stores each (small) int: one block,
        # no temporary, no float objects
        a = array(typecode, range(n))
    except OverflowError:  # CPython checks every value against the type's range
        return array(typecode, bytes(_SIZE[typecode] * n))
    for i in range(n):
        a[i] = 0
    return a
