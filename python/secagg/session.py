"""The server side of a session: setup, socket-mode serve, and decoding the average."""

import os
import re
import subprocess
import time
from pathlib import Path

from . import _arrays, _tools


class Session:
    """A session directory made by ``secagg-collect setup``, and its server.

    >>> s = Session.setup("S", clients=3, threshold=2, length=17, clip=1.0, bits=16, max_weight=100)
    >>> address = s.serve()                 # secagg-collect serve on 127.0.0.1, any free port
    >>> ...                                 # the clients run their rounds against address
    >>> average = s.result(like=update)     # waits for serve, decodes into update's structure
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.params = self.directory / "params.msg"
        self.address = None
        self._proc = None
        self._log = None

    @classmethod
    def setup(cls, directory, *, clients, threshold, length, clip=None, bits=None, max_weight=None,
              modulus_bits="auto", neighbours=None, dp=None):
        """Run ``secagg-collect setup``. With clip, bits and max_weight the session has a
        quantization spec and length counts floats (secagg-quantize's L); without, it sums
        integer vectors of that length modulo 2^modulus_bits. With dp (a secagg.Ddg), it is a
        distributed-DP session of updates of `length` floats, every weight 1 (docs/privacy.md)."""
        args = ["setup", "--session", directory, "--clients", clients, "--threshold", threshold,
                "--length", length]
        if dp is not None:
            if clip is not None or bits is not None or max_weight is not None:
                raise ValueError("a DP session takes its clip and bits from dp, and has no max_weight")
            args += dp.setup_args()
        else:
            args += ["--modulus-bits", modulus_bits]
        if clip is not None or bits is not None or max_weight is not None:
            args += ["--clip", repr(float(clip)), "--bits", bits, "--max-weight", max_weight]
        if neighbours is not None:
            args += ["--neighbours", neighbours]
        _tools.run("secagg-collect", *args)
        return cls(directory)

    def serve(self, listen="127.0.0.1:0", round_timeout=60.0, start_timeout=30.0, extra=()):
        """Start ``secagg-collect serve`` in the background and return its HOST:PORT once
        it listens (read from --port-file). Its log goes to serve.log in the directory's parent."""
        port_file = self.directory.parent / (self.directory.name + ".port")
        if port_file.exists():
            port_file.unlink()
        self._log = open(self.directory.parent / (self.directory.name + ".serve.log"), "w+")
        argv = [_tools.find_tool("secagg-collect"), "serve", "--session", str(self.directory), "--listen", listen,
                "--round-timeout", str(round_timeout), "--port-file", str(port_file),
                "-o", str(self.directory.parent / (self.directory.name + ".sum.vec")), *map(str, extra)]
        self._argv = argv
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + start_timeout
        while True:
            if port_file.exists() and port_file.read_text().strip():
                break
            if self._proc.poll() is not None:
                raise self._error()
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"secagg-collect serve did not listen within {start_timeout} s")
            time.sleep(0.01)
        host = listen.rsplit(":", 1)[0]
        self.address = f"{host}:{port_file.read_text().strip()}"
        return self.address

    def _error(self):
        self._log.seek(0)
        return _tools.error_of("secagg-collect", self._proc.returncode, self._argv, self._log.read())

    def log(self):
        """What serve has logged so far (dropouts, refusals)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def wait(self, timeout=None):
        """Wait for serve to finish the session; raise ToolError if it failed."""
        try:
            self._proc.wait(timeout)
        finally:
            if self._proc.returncode is not None and self._log:
                self._log.flush()
        if self._proc.returncode != 0:
            raise self._error()

    def stop(self):
        """Stop a running serve (SIGTERM); a no-op once it has exited."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def result(self, like, output=None, dtype="f64"):
        """Wait for serve, then decode S/aggregate.vec into the weighted average, in the
        structure of like (an update: one array, a list or a dict of arrays).
        Returns (average, contributors, total_weight)."""
        self.wait()
        kind, names, shapes = _arrays.check_updates([like])
        like_path = self.directory.parent / (self.directory.name + ".like.npz")
        _arrays.save_like(like_path, names, shapes)
        out = Path(output) if output else self.directory.parent / (self.directory.name + ".average.npz")
        err = _tools.run("secagg-quantize", "decode", "--params", self.params, "--input",
                         self.directory / "aggregate.vec", "--like", like_path, "--dtype", dtype, "-o", out, "-v")
        m = re.search(r"(\d+) contributors?, total weight (\d+)", err)
        contributors, total = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        average = _arrays.load(out, kind, names)
        os.unlink(like_path)
        return average, contributors, total
