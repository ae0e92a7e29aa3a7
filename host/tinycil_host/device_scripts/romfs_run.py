# Run a script with tinycil imported from a ROMFS image, as on a board whose firmware has ROMFS
# (`mpremote romfs deploy`): .mpy code runs in place from the image instead of being copied into
# the heap. The unix port has no ROM partition, so the image is read into one heap block first;
# bench-device subtracts that block from the heap it finds.
#   micropython romfs_run.py IMAGE SCRIPT [ARG ...]
import sys
import vfs

image, script = sys.argv[1], sys.argv[2]
with open(image, "rb") as f:
    rom = f.read()
vfs.mount(vfs.VfsRom(rom), "/rom")
sys.path.insert(0, "/rom")
sys.argv[:] = sys.argv[2:]  # the script sees its own argv (MicroPython: sys.argv cannot be rebound)
with open(script) as f:
    code = compile(f.read(), script, "exec")  # the source string is dropped before the run
exec(code, {"__name__": "__main__", "__file__": script})
