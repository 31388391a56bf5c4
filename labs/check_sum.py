#!/usr/bin/env python3
"""check_sum.py SUM R X... : the aggregate SUM (decimal text, one element per line) must be the
element-wise sum of the inputs X... (same format) modulo R. Prints one line; exits 1 if not."""
import sys


def read(path):
    with open(path) as f:
        return [int(tok) for tok in f.read().split()]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    total, modulus, inputs = read(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    plain = [sum(col) % modulus for col in zip(*(read(p) for p in inputs))]
    if total != plain:
        bad = next(i for i, (a, b) in enumerate(zip(total, plain)) if a != b) if len(total) == len(plain) else None
        where = f"first difference at element {bad}" if bad is not None else f"{len(total)} elements, expected {len(plain)}"
        print(f"FAIL: {sys.argv[1]} is not the sum of {' '.join(inputs)} mod {modulus} ({where})")
        sys.exit(1)
    print(f"ok: {sys.argv[1]} is the sum of {' '.join(inputs)} mod {modulus} ({len(total)} elements)")


if __name__ == "__main__":
    main()
