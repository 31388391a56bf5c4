"""secagg for numpy users: secure aggregation of model updates through the secagg tools.

secure_average(updates, weights, clip=..., bits=...) runs a whole session on this machine;
secure_sparse_average one sparse (SSGA) round; with dp=Ddg(...), secure_average adds
distributed differential privacy, and account/epsilon say what it costs;
Session (the server side) and Client (one party) run one across machines. Nothing here
implements the protocol: every step is one of the secagg executables, found in $SECAGG_BIN,
next to this package (PREFIX/bin, or build/ in the source tree) or on PATH. See docs/python.md.
"""

from ._tools import ToolError, find_tool
from .average import Report, secure_average
from .client import Client
from .dp import Ddg, account, epsilon
from .session import Session
from .sparse import SparseReport, dense_round_bytes, secure_sparse_average

__all__ = ["ToolError", "find_tool", "secure_average", "Report", "Session", "Client",
           "secure_sparse_average", "SparseReport", "dense_round_bytes", "Ddg", "account", "epsilon"]
