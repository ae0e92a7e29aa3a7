# Issue #5's digits scenario (tests/device/test_digits.py) at the given learner seeds.
#   micropython digits_seeds.py REPO DATA_DIR BACKEND SEED...
# Prints one line per seed: SEED <seed> <final accuracy> <first two classes>
import sys

repo, data, backend = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, repo + "/tests/device")
import test_digits  # noqa: E402

for s in sys.argv[4:]:
    # a folder per seed: bench-device runs two of these scripts at once
    ctx = {"data": data, "backend": backend, "tmp": data + "/tmp/seed" + s}
    acc, acc2 = test_digits.learn_digits(ctx, seed=int(s), verbose=False)
    print("SEED %s %.4f %.4f" % (s, acc, acc2))
