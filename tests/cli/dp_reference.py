#!/usr/bin/env python3
"""An independent reference for secagg's distributed-DP accountant (tests/cli/t0990-dp-account.sh).

Written from the papers, not from lib/protocol/dp_accounting.cpp, so that the two can disagree:

  [DDG]  Kairouz, Liu, Steinke, "The Distributed Discrete Gaussian Mechanism for Federated
         Learning with Secure Aggregation", ICML 2021 (arXiv 2102.06387): Theorem 1 (norm after
         conditional randomized rounding; tau of a sum of n discrete Gaussians), Proposition 14
         (the Renyi DP of the sum: the least of three bounds), Section 4.4 (the scale that keeps
         k stddevs of the aggregate inside the ring).
  [ZW]   Zhu, Wang, "Poisson Subsampled Renyi Differential Privacy", ICML 2019, Theorem 5 (the
         general upper bound for a Poisson-subsampled mechanism, at integer orders).
  [CKS]  Canonne, Kamath, Steinke, "The Discrete Gaussian for Differential Privacy", NeurIPS 2020,
         Proposition 12 (Renyi DP to (epsilon, delta)).

Everything is evaluated over all orders at once with numpy; the subsampled bound is one
scipy.special.logsumexp with weights b per order.

As a module: epsilon_of_body(body, rounds, q, delta) takes the "body" of `secagg-inspect --json
S/params.msg` and returns (epsilon, order); gaussian_epsilon(z, rounds, q, delta) is the
continuous Gaussian mechanism's epsilon (RDP alpha Delta^2 / (2 sigma^2)) for the limit check.

As a script (the test's checks; exit 0 = agreement, 1 = a disagreement, explained on stdout):

  dp_reference.py account JSON LINE --rounds R --sampling Q [--delta D] --bits B
      JSON: secagg-inspect --json output; LINE: secagg-quantize account's output line. Checks the
      session's calibration (contributors, padded length, modulus, scale) and that LINE's epsilon
      is the reference's (relative 1e-6 beyond its printed 6 digits) at the same order.
  dp_reference.py target JSON LINE --target E --rounds R --sampling Q --delta D --bits B
      LINE's epsilon is in [0.99 E, E], and so is the reference's; z / 1.0011 would miss E.
  dp_reference.py gaussian JSON LINE --rounds R --sampling Q [--delta D] [--tolerance F]
      LINE's epsilon is within F (default 1%) of the continuous Gaussian's for the same z.
  dp_reference.py epsilon JSON --rounds R --sampling Q [--delta D]
      print "epsilon=E order=A" (the reference alone).
"""

import argparse
import json
import math
import sys

import numpy as np
from scipy.special import gammaln, logsumexp

# The orders tried: 2..128 and 256. Subsampling needs the mechanism's RDP at every integer order
# up to the order it bounds, so the mechanism is evaluated at 0..MAX_ORDER.
ORDERS = np.concatenate([np.arange(2, 129), [256]]).astype(np.int64)
MAX_ORDER = int(ORDERS.max())
K_STDDEVS = 4.0  # [DDG] 4.4: the aggregate's stddevs the ring must hold
REL_TOL = 1e-6


# --- the mechanism ([DDG]) ------------------------------------------------------------------------

def padded_dimension(input_length):
    """The next power of two >= input_length (the randomized Hadamard rotation needs one)."""
    d = 1
    while d < input_length:
        d *= 2
    return d


def scale_for(l2_clip, noise_multiplier, contributors, clients, dim, bits, k=K_STDDEVS):
    """[DDG] 4.4 with flatness rho = 1: the s with which k stddevs of the scaled aggregate fit in
    2^bits, solving 2^bits = 2 k sqrt(N^2 c^2 / d + N (1/(4 s^2) + sigma^2)) * s for s, where
    each of the N clients adds local noise sigma = z c / sqrt(n) (n honest contributors)."""
    sigma = noise_multiplier * l2_clip / math.sqrt(contributors)
    room = 4.0 ** bits - clients * k * k
    if room <= 0:
        return 0.0
    spread = (clients * l2_clip) ** 2 / dim + clients * sigma * sigma
    return math.sqrt(room) / (2 * k * math.sqrt(spread))


def min_bits(clients, k=K_STDDEVS):
    """The smallest bits with 2^(2 bits) > N k^2 (a positive room in scale_for)."""
    b = 1
    while 4.0 ** b <= clients * k * k:
        b += 1
    return b


def rounded_norm(norm, beta, dim):
    """[DDG] Theorem 1: the L2 norm bound after randomized rounding to Z^d of a vector of norm
    <= `norm`; with beta > 0 the rounding is repeated until the squared norm is at most
    norm^2 + d/4 + sqrt(2 ln(1/beta)) (norm + sqrt(d)/2). Every coordinate moves by < 1, so
    norm + sqrt(d) always holds."""
    plain = norm + math.sqrt(dim)
    if beta <= 0:
        return plain
    conditional = math.sqrt(norm ** 2 + dim / 4 + math.sqrt(2 * math.log(1 / beta)) * (norm + math.sqrt(dim) / 2))
    return min(plain, conditional)


def tau(sigma, n):
    """[DDG] Theorem 1: tau = 10 sum_{k=1}^{n-1} exp(-2 pi^2 sigma^2 k / (k+1)), sigma being
    one contributor's discrete-Gaussian stddev in the integer (scaled) domain."""
    if n < 2:
        return 0.0
    k = np.arange(1, n, dtype=np.float64)
    return float(10 * np.exp(-2 * math.pi ** 2 * sigma ** 2 * k / (k + 1)).sum())


def ddg_rdp(alphas, l2_over_sigma, l1_over_sigma, tau_, dim):
    """[DDG] Proposition 14: the Renyi divergence of order alpha between the sums of n discrete
    Gaussians shifted by a vector of L2 norm Delta2 and L1 norm Delta1, with S = sqrt(n) sigma:
        min( alpha Delta2^2 / (2 S^2) + tau d,
             alpha/2 (Delta2^2 / S^2 + 2 tau Delta1 / S + tau^2 d),
             alpha/2 (Delta2 / S + tau sqrt(d))^2 )."""
    a = np.asarray(alphas, dtype=np.float64)
    first = a * l2_over_sigma ** 2 / 2 + tau_ * dim
    second = a / 2 * (l2_over_sigma ** 2 + 2 * tau_ * l1_over_sigma + tau_ ** 2 * dim)
    third = a / 2 * (l2_over_sigma + tau_ * math.sqrt(dim)) ** 2
    return np.minimum(np.minimum(first, second), third)


def gaussian_rdp(alphas, sensitivity, sigma):
    """The continuous Gaussian mechanism: alpha Delta^2 / (2 sigma^2) (Mironov 2017)."""
    return np.asarray(alphas, dtype=np.float64) * sensitivity ** 2 / (2 * sigma ** 2)


class Terms:
    """What one round's RDP depends on, from the session's fields."""

    def __init__(self, l2_clip, noise_multiplier, beta, scale, dim, contributors):
        sigma_local = noise_multiplier * l2_clip / math.sqrt(contributors)  # unscaled
        sigma_scaled = scale * sigma_local
        central = math.sqrt(contributors) * sigma_scaled  # the honest noise's total stddev
        delta2 = rounded_norm(scale * l2_clip, beta, dim)
        # In Z^d the L1 norm is at most sqrt(d) L2 and, the coordinates being integers, L2^2.
        delta1 = min(math.sqrt(dim) * delta2, delta2 ** 2)
        self.l2 = delta2 / central
        self.l1 = delta1 / central
        self.tau = tau(sigma_scaled, contributors)
        self.dim = dim

    def rdp(self, alphas):
        return ddg_rdp(alphas, self.l2, self.l1, self.tau, self.dim)

    def active_term(self, alpha):
        a = float(alpha)
        t = [a * self.l2 ** 2 / 2 + self.tau * self.dim,
             a / 2 * (self.l2 ** 2 + 2 * self.tau * self.l1 + self.tau ** 2 * self.dim),
             a / 2 * (self.l2 + self.tau * math.sqrt(self.dim)) ** 2]
        return 1 + int(np.argmin(t))


# --- subsampling ([ZW]) and conversion ([CKS]) ----------------------------------------------------

def subsampled_rdp(rdp_all, q, orders=ORDERS):
    """[ZW] Theorem 5 at every order in `orders`, from the mechanism's RDP rdp_all[l] at
    l = 0..max(orders) (entries 0 and 1 unused):
        1/(alpha-1) log( (1-q)^(alpha-1) (1 + (alpha-1) q)
                         + C(alpha,2) q^2 (1-q)^(alpha-2) e^{rdp(2)}
                         + 3 sum_{l=3}^{alpha} C(alpha,l) q^l (1-q)^(alpha-l) e^{(l-1) rdp(l)} ),
    capped by the mechanism's own RDP (subsampling never hurts). q = 1: the mechanism's own."""
    orders = np.asarray(orders, dtype=np.int64)
    own = rdp_all[orders]
    if q >= 1:
        return own
    alpha = orders[:, None].astype(np.float64)          # rows: the orders
    ell = np.arange(0, MAX_ORDER + 1, dtype=np.float64)[None, :]  # columns: the terms
    log_q, log_1q = math.log(q), math.log1p(-q)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_binom = gammaln(alpha + 1) - gammaln(ell + 1) - gammaln(alpha - ell + 1)
        exponent = (ell - 1) * rdp_all[None, :] + log_binom + ell * log_q + (alpha - ell) * log_1q
    exponent = np.broadcast_to(exponent, (len(orders), MAX_ORDER + 1)).copy()
    weight = np.where(ell <= alpha, 3.0, 0.0)
    # The l = 0 column carries the first term (in logs, so it cannot underflow), l = 1 none,
    # l = 2 the second (weight 1: exponent (2-1) rdp(2) + log C(alpha,2) + 2 log q + ...).
    exponent[:, 0] = (alpha[:, 0] - 1) * log_1q + np.log1p((alpha[:, 0] - 1) * q)
    weight[:, 0] = 1.0
    weight[:, 1] = 0.0
    weight[:, 2] = 1.0
    exponent[weight == 0] = -np.inf
    bound = logsumexp(exponent, axis=1, b=weight) / (orders - 1)
    return np.minimum(own, bound)


def to_epsilon(total_rdp, delta, orders=ORDERS):
    """[CKS] Proposition 12: (alpha, r)-RDP implies (epsilon, delta)-DP with
    epsilon = r + log(1 - 1/alpha) - (log delta + log alpha) / (alpha - 1); the best order.
    Returns (epsilon clamped at 0, order, the epsilon of every order)."""
    a = np.asarray(orders, dtype=np.float64)
    eps = total_rdp + np.log1p(-1 / a) - (math.log(delta) + np.log(a)) / (a - 1)
    i = int(np.argmin(eps))
    return max(float(eps[i]), 0.0), int(orders[i]), eps


def epsilon_of_terms(terms, rounds, q, delta):
    rdp_all = np.zeros(MAX_ORDER + 1)
    rdp_all[2:] = terms.rdp(np.arange(2, MAX_ORDER + 1))
    return to_epsilon(rounds * subsampled_rdp(rdp_all, q), delta)


def terms_of_body(body):
    dim = padded_dimension(int(body["input_length"]))
    return Terms(float(body["l2_clip"]), float(body["noise_multiplier"]), float(body["beta"]),
                 float(body["scale"]), dim, int(body["contributors"]))


def epsilon_of_body(body, rounds, q, delta=None):
    """(epsilon, order) of `rounds` rounds at Poisson sampling rate q of a DP session, from the
    body of its secagg-inspect --json; delta: the session's unless given."""
    delta = float(body["delta"]) if delta is None else delta
    eps, order, _ = epsilon_of_terms(terms_of_body(body), rounds, q, delta)
    return eps, order


def gaussian_epsilon(noise_multiplier, rounds, q, delta):
    """(epsilon, order) of the continuous Gaussian mechanism with noise multiplier z (sensitivity
    1, stddev z), subsampled and converted in the same way."""
    rdp_all = np.zeros(MAX_ORDER + 1)
    rdp_all[2:] = gaussian_rdp(np.arange(2, MAX_ORDER + 1), 1.0, noise_multiplier)
    eps, order, _ = to_epsilon(rounds * subsampled_rdp(rdp_all, q), delta)
    return eps, order


# --- the checks -----------------------------------------------------------------------------------

def parse_line(line):
    fields = dict(tok.split("=", 1) for tok in line.split())
    want = {"epsilon", "delta", "rounds", "sampling", "order", "noise_multiplier", "contributors"}
    missing = want - fields.keys()
    if missing:
        raise SystemExit(f"account line {line!r} lacks {sorted(missing)}")
    return fields


def printed_slack(text):
    """Half a unit in the last of the digits `text` (a %.6g number) shows."""
    value = float(text)
    if value == 0:
        return 0.0
    mantissa = text.lower().split("e")[0].lstrip("-")
    digits = len(mantissa.replace(".", "").lstrip("0"))
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)


class Checker:
    def __init__(self):
        self.problems = []

    def need(self, ok, what):
        if not ok:
            self.problems.append(what)

    def close(self, got_text, want, what, rel=REL_TOL):
        got = float(got_text)
        slack = rel * abs(want) + printed_slack(got_text)
        self.need(abs(got - want) <= slack, f"{what}: secagg says {got_text}, the reference {want!r} "
                                            f"(differ by {abs(got - want):.3g}, allowed {slack:.3g})")

    def done(self, summary):
        print(summary)
        for p in self.problems:
            print("MISMATCH: " + p)
        return 1 if self.problems else 0


def check_calibration(c, body, bits):
    n_clients, threshold = int(body["clients"]), int(body["threshold"])
    dim = padded_dimension(int(body["input_length"]))
    c.need(int(body["length"]) == dim + 1,
           f"length {body['length']} is not the padded dimension {dim} + 1 (the weight)")
    c.need(int(body["modulus"]) == 2 ** bits, f"modulus {body['modulus']} is not 2^{bits}")
    # Honest-but-curious: every one of the t survivors' noise counts (active: t - C, which the
    # test checks itself).
    c.need(int(body["contributors"]) <= threshold, f"contributors {body['contributors']} > t = {threshold}")
    want_scale = scale_for(float(body["l2_clip"]), float(body["noise_multiplier"]), int(body["contributors"]),
                           n_clients, dim, bits)
    c.need(abs(float(body["scale"]) - want_scale) <= 1e-9 * want_scale,
           f"scale {body['scale']!r}, the reference {want_scale!r}")


def check_order(c, terms, line, rounds, q, delta, order):
    if int(line["order"]) == order:
        return
    # A tie to the last bits between two orders may fall either way; a real difference may not.
    _, _, eps = epsilon_of_terms(terms, rounds, q, delta)
    at = {int(a): e for a, e in zip(ORDERS, eps)}
    theirs = at.get(int(line["order"]), math.inf)
    c.need(abs(theirs - at[order]) <= 1e-12 * max(1.0, abs(at[order])),
           f"order: secagg says {line['order']} (epsilon {theirs!r} there), the reference {order}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["account", "target", "gaussian", "epsilon"])
    ap.add_argument("json")
    ap.add_argument("line", nargs="?")
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--sampling", type=float, default=1.0)
    ap.add_argument("--delta", type=float)
    ap.add_argument("--bits", type=int)
    ap.add_argument("--target", type=float)
    ap.add_argument("--tolerance", type=float, default=0.01)
    a = ap.parse_args(argv)
    with open(a.json) as f:
        body = json.load(f)["body"]
    delta = float(body["delta"]) if a.delta is None else a.delta
    terms = terms_of_body(body)
    eps, order, _ = epsilon_of_terms(terms, a.rounds, a.sampling, delta)
    if a.mode == "epsilon":
        print(f"epsilon={eps!r} order={order}")
        return 0
    line = parse_line(a.line)
    c = Checker()
    c.need(int(line["rounds"]) == a.rounds, f"rounds={line['rounds']}, not {a.rounds}")
    c.need(float(line["sampling"]) == a.sampling, f"sampling={line['sampling']}, not {a.sampling}")
    c.close(line["delta"], delta, "delta")
    c.close(line["noise_multiplier"], float(body["noise_multiplier"]), "noise_multiplier")
    c.need(int(line["contributors"]) == int(body["contributors"]),
           f"contributors={line['contributors']}, the session's {body['contributors']}")
    where = (f"z={body['noise_multiplier']!r} n={body['contributors']} d={terms.dim} "
             f"scale={float(body['scale']):.6g} tau={terms.tau:.3g} term={terms.active_term(order)} "
             f"R={a.rounds} q={a.sampling} delta={delta:g}")
    if a.mode == "account":
        if a.bits is not None:
            check_calibration(c, body, a.bits)
        c.close(line["epsilon"], eps, "epsilon")
        check_order(c, terms, line, a.rounds, a.sampling, delta, order)
        return c.done(f"epsilon secagg={line['epsilon']} reference={eps:.10g}; order secagg={line['order']} "
                      f"reference={order}; {where}")
    if a.mode == "target":
        t = a.target
        got = float(line["epsilon"])
        c.need(0.99 * t <= got <= t, f"epsilon {got!r} is outside [0.99, 1] x the target {t}")
        c.need(0.99 * t <= eps <= t * (1 + REL_TOL),
               f"the reference's epsilon {eps!r} is outside [0.99, 1] x the target {t}")
        c.close(line["epsilon"], eps, "epsilon")
        if a.bits is not None:
            check_calibration(c, body, a.bits)
            # Minimality: bisection stops within 0.1% in z, so 0.11% less noise misses the target.
            z = float(body["noise_multiplier"]) / 1.0011
            dim = terms.dim
            s = scale_for(float(body["l2_clip"]), z, int(body["contributors"]), int(body["clients"]), dim, a.bits)
            less = Terms(float(body["l2_clip"]), z, float(body["beta"]), s, dim, int(body["contributors"]))
            e_less, _, _ = epsilon_of_terms(less, a.rounds, a.sampling, delta)
            c.need(e_less > t, f"z / 1.0011 = {z!r} still meets the target: epsilon {e_less!r} <= {t}")
        return c.done(f"target {t}: epsilon secagg={line['epsilon']} reference={eps:.10g}; {where}")
    # gaussian
    g, g_order = gaussian_epsilon(float(body["noise_multiplier"]), a.rounds, a.sampling, delta)
    got = float(line["epsilon"])
    c.need(abs(got - g) <= a.tolerance * g,
           f"epsilon {got!r} is not within {a.tolerance:g} of the continuous Gaussian's {g!r}")
    c.need(got >= g * (1 - REL_TOL) - printed_slack(line["epsilon"]),
           f"epsilon {got!r} is below the continuous Gaussian's {g!r} (DDG adds rounding and tau)")
    return c.done(f"limit: epsilon secagg={line['epsilon']} continuous Gaussian={g:.10g} (order {g_order}); {where}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
