"""Distributed differential privacy (docs/privacy.md): the settings of a DDG session, and its
accountant (secagg-quantize account)."""

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import _tools


@dataclass
class Ddg:
    """The distributed discrete Gaussian, as ``secagg-collect setup --dp ddg``: every client's
    update is clipped to L2 norm l2_clip, and the t - C honest contributors' noise adds up to
    stddev noise_multiplier * l2_clip; the ring is 2^bits; delta is the session's delta."""
    l2_clip: float
    noise_multiplier: float
    bits: int = 20
    delta: float = 1e-5

    def setup_args(self):
        return ["--dp", "ddg", "--bits", int(self.bits), "--l2-clip", repr(float(self.l2_clip)),
                "--noise-multiplier", repr(float(self.noise_multiplier)), "--delta", repr(float(self.delta))]


def account(params, rounds, sampling=1.0, delta=None):
    """``secagg-quantize account``: the guarantee of a DP session's parameters (params.msg)
    over `rounds` rounds, as a dict with epsilon, delta, rounds, sampling, order,
    noise_multiplier and contributors."""
    args = ["account", "--params", params, "--rounds", int(rounds), "--sampling", repr(float(sampling))]
    if delta is not None:
        args += ["--delta", repr(float(delta))]
    line = _tools.output("secagg-quantize", *args)
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    return {k: (int(v) if k in ("rounds", "order", "contributors") else float(v)) for k, v in fields.items()}


def epsilon(dp, *, clients, threshold, length, rounds, sampling=1.0):
    """epsilon over `rounds` rounds of sessions of these settings (a throw-away setup, then
    account)."""
    with tempfile.TemporaryDirectory(prefix="secagg-dp.") as tmp:
        s = Path(tmp) / "S"
        _tools.run("secagg-collect", "setup", "--session", s, "--clients", clients, "--threshold", threshold,
                   "--length", length, *dp.setup_args())
        return account(s / "params.msg", rounds, sampling)["epsilon"]
