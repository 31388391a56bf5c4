"""Updates as users hold them (a list or dict of arrays, or one array) to and from .npz files.

secagg-quantize flattens an .npz's arrays sorted by name and writes them back by name
(decode --like), so only the names and shapes matter here; the layout is the tool's.
"""

import numpy as np


def _named(update):
    """(kind, {name: float array}) of one party's update."""
    if isinstance(update, dict):
        for k in update:
            if not isinstance(k, str) or not k or "/" in k or "\\" in k:
                raise ValueError(f"array name {k!r}: names must be non-empty strings without slashes")
        return "dict", {k: np.asarray(v) for k, v in update.items()}
    if isinstance(update, (list, tuple)):
        return "list", {f"arr_{i}": np.asarray(v) for i, v in enumerate(update)}
    return "array", {"arr_0": np.asarray(update)}


def check_updates(updates):
    """The common structure of the parties' updates: (kind, names in order, {name: shape}).
    Raises ValueError unless every party has the same kind, names and shapes of float arrays."""
    if len(updates) == 0:
        raise ValueError("no updates")
    kind, first = _named(updates[0])
    if not first:
        raise ValueError("an update holds no arrays")
    shapes = {k: v.shape for k, v in first.items()}
    for i, u in enumerate(updates):
        k2, named = _named(u)
        if k2 != kind or list(named) != list(first):
            raise ValueError(f"update {i} does not have the arrays of update 0 ({', '.join(first)})")
        for name, a in named.items():
            if a.shape != shapes[name]:
                raise ValueError(f"update {i}: array {name!r} has shape {a.shape}, update 0's has {shapes[name]}")
            if a.dtype.kind not in "fiu":
                raise ValueError(f"update {i}: array {name!r} has dtype {a.dtype}, not a real number type")
    return kind, list(first), shapes


def save(path, update):
    """Write one party's update as an .npz of float64 (or float32) arrays."""
    _, named = _named(update)
    np.savez(path, **{k: v if v.dtype in (np.float32, np.float64) else v.astype(np.float64)
                      for k, v in named.items()})


def save_like(path, names, shapes):
    """An .npz of zeros with these names and shapes, for decode --like."""
    np.savez(path, **{n: np.zeros(shapes[n], dtype=np.float32) for n in names})


def load(path, kind, names):
    """The decoded average in the structure of the updates."""
    with np.load(path) as z:
        arrays = {n: z[n] for n in names}
    if kind == "dict":
        return arrays
    if kind == "list":
        return [arrays[n] for n in names]
    return arrays["arr_0"]


def length(shapes):
    """The number of floats: the session's length."""
    return int(sum(int(np.prod(s, dtype=np.int64)) for s in shapes.values()))
