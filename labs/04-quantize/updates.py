#!/usr/bin/env python3
"""updates.py I LENGTH OUT: client I's model update, LENGTH float32 values, to OUT (.npy): small
values around a common direction, plus a few outliers beyond the clip of 1.0 (seeded by I)."""
import sys

import numpy as np

i, length, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
common = np.sin(np.linspace(0, 6 * np.pi, length)) * 0.3
rng = np.random.default_rng(100 + i)
u = common + rng.normal(0, 0.1 * i, length)
u[rng.choice(length, 5, replace=False)] = rng.choice([-4.0, 4.0], 5)  # outliers, clipped to +-1
np.save(out, u.astype(np.float32))
