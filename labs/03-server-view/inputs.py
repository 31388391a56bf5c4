#!/usr/bin/env python3
"""inputs.py I LENGTH: client I's private input, LENGTH integers one per line: a bump around
1000 I with spread 100 I (seeded by I, so the same every run)."""
import sys

import numpy as np

i, length = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(i)
x = np.clip(np.rint(rng.normal(1000 * i, 100 * i, length)), 0, None).astype(np.int64)
sys.stdout.write("".join(f"{v}\n" for v in x))
