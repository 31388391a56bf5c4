"""Finding and running the secagg executables; their failures as ToolError."""

import os
import shutil
import subprocess
from pathlib import Path

TOOLS = ("secagg-collect", "secagg-keygen", "secagg-share", "secagg-mask", "secagg-unmask", "secagg-quantize")


class ToolError(Exception):
    """A secagg tool exited with a non-zero status.

    tool: the executable's name; code: its exit status (sysexits, see the README's Exit
    status table: 1 aborted or refused, 64 usage, 65 bad data, 75 server unreachable or
    deadline, ...); message: its one-line diagnostic without the "tool: error: " prefix;
    argv: the command line; stderr: everything it wrote to standard error.
    """

    def __init__(self, tool, code, message, argv, stderr=""):
        super().__init__(f"{tool}: exit {code}: {message}")
        self.tool, self.code, self.message, self.argv, self.stderr = tool, code, message, argv, stderr


def _candidates():
    env = os.environ.get("SECAGG_BIN")
    if env:
        yield Path(env)
        return
    here = Path(__file__).resolve().parent
    # Installed: PREFIX/lib/python3.X/dist-packages/secagg -> PREFIX/bin.
    if here.parent.name in ("dist-packages", "site-packages") and len(here.parents) > 3:
        yield here.parents[3] / "bin"
    # The source tree: python/secagg -> build/.
    yield here.parents[1] / "build"


def find_tool(name):
    """The path of a secagg executable: in $SECAGG_BIN if that is set, else next to this
    package (PREFIX/bin for an installed package, build/ in the source tree), else on PATH."""
    for d in _candidates():
        p = d / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    if os.environ.get("SECAGG_BIN"):
        raise FileNotFoundError(f"{name} is not in SECAGG_BIN={os.environ['SECAGG_BIN']}")
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found next to the secagg package nor on PATH "
                                "(build it with 'make', install it with 'make install', or set SECAGG_BIN)")
    return found


def error_of(tool, code, argv, stderr):
    """The ToolError for a finished tool: its 'tool: error: ...' line is the message."""
    lines = stderr.splitlines()
    prefix = f"{tool}: error: "
    message = next((l[len(prefix):] for l in lines if l.startswith(prefix)), None)
    if message is None:
        message = lines[-1] if lines else f"exited with status {code} and no message"
    return ToolError(tool, code, message, argv, stderr)


def run(tool, *args, cwd=None, register=None):
    """Run a tool to completion; raise ToolError if it fails. Returns its standard error
    (the informational lines some tools print). register(proc) is called with the running
    process, so that a caller can stop it from another thread."""
    argv = [find_tool(tool), *map(str, args)]
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if register:
        register(proc)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise error_of(tool, proc.returncode, argv, err)
    return err


def output(tool, *args):
    """Run a tool that answers on standard output (secagg-quantize account); return that."""
    argv = [find_tool(tool), *map(str, args)]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        raise error_of(tool, proc.returncode, argv, proc.stderr)
    return proc.stdout
