"""One party of a socket-mode session: its four client steps as separate processes."""

from pathlib import Path

from . import _arrays, _tools


class Client:
    """Client id of a session, keeping its files (state, received messages) in workdir.

    >>> c = Client(1, "S/params.msg", "c1")
    >>> c.run({"w": w, "b": b}, weight=1200, connect="127.0.0.1:7000")

    run() is the whole protocol; keygen(), share(), mask() and unmask() are its steps, for a
    party that drops out part-way or wants to look between them.
    """

    def __init__(self, id, params, workdir, timeout=600.0, tls_ca=None, register=None):
        self.id = int(id)
        self.params = Path(params)
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state = self.dir / "state"
        self.timeout = timeout
        # Socket mode over TLS: the certificate (or CA) the server's must verify against.
        self._tls = ["--tls-ca", tls_ca] if tls_ca else []
        self._register = register

    def _step(self, tool, connect, recv, *args):
        _tools.run(tool, "--state", self.state, *args, "--connect", connect, "--recv", self.dir / recv,
                   "--timeout", self.timeout, *self._tls, register=self._register)

    def encode(self, update, weight, round=None):
        """secagg-quantize encode: the update (array, list or dict of arrays) as this client's
        input vector, weighted by weight (an integer, e.g. its number of examples; 1 in a DP
        session). round: "stochastic" (the tool's default) or "nearest"; a DP session rounds
        its own way and refuses it."""
        _arrays.save(self.dir / "update.npz", update)
        rounding = ["--round", round] if round is not None else []
        _tools.run("secagg-quantize", "encode", "--params", self.params, "--weight", _weight(weight), *rounding,
                   "--input", self.dir / "update.npz", "-o", self.dir / "input.vec")

    def keygen(self, connect):
        """Round 0: new keys, advertised to the server; the roster comes back."""
        _tools.run("secagg-keygen", "--params", self.params, "--id", self.id, "--state", self.state,
                   "--connect", connect, "--recv", self.dir / "roster.msg", "--timeout", self.timeout,
                   *self._tls, register=self._register)

    def share(self, connect):
        """Round 1: shares of this client's secrets for the others; its inbox comes back."""
        self._step("secagg-share", connect, "inbox.msg", "--roster", self.dir / "roster.msg")

    def mask(self, connect):
        """Round 2: the masked input (encode first); the survivor set comes back."""
        self._step("secagg-mask", connect, "survivors.msg", "--inbox", self.dir / "inbox.msg",
                   "--input", self.dir / "input.vec")

    def unmask(self, connect):
        """Round 4: this client's shares for the server to remove the masks."""
        self._step("secagg-unmask", connect, "aggregate.vec", "--survivors", self.dir / "survivors.msg")

    def run(self, update, weight, connect, stop_before=None):
        """encode, then every round against the server at connect. stop_before=2 (or 1, 4)
        leaves the session before that round, as a client that drops out."""
        self.encode(update, weight)
        for rnd, step in ((0, self.keygen), (1, self.share), (2, self.mask), (4, self.unmask)):
            if stop_before is not None and rnd >= stop_before:
                return
            step(connect)


def _weight(w):
    # The tool parses the integer itself and says why a weight is refused.
    try:
        if int(w) == w:
            return str(int(w))
    except (TypeError, ValueError, OverflowError):
        pass
    return str(w)
