"""Heavy-tail tests after Clauset, Shalizi & Newman 2009 (SIAM Rev. 51:661): power-law fits with xmin
chosen by minimum Kolmogorov–Smirnov distance, likelihood-ratio (Vuong) tests against log-normal and
exponential tails, and the semi-parametric bootstrap goodness-of-fit p-value.

Both data kinds are handled: ``discrete=True`` for degrees (integers >= 1; exact discrete power law
p(x) = x**-alpha / zeta(alpha, xmin), alpha by numerical MLE) and ``discrete=False`` for weights or
strengths (alpha = 1 + n / sum(ln(x / xmin)), closed form). Conventions follow the ``powerlaw`` package
(Alstott et al. 2014) so that numbers can be compared: xmin candidates are the distinct data values
except the largest, KS distance is max |empirical CDF - fitted CDF| on the tail, and the Vuong test uses
the pointwise log-likelihood differences with their ddof=0 standard deviation.

Depends on numpy and scipy.

>>> x = (1 - np.random.default_rng(0).random(4000)) ** (-1 / 1.5)        # Pareto, alpha = 2.5, xmin = 1
>>> f = fit_power_law(x, xmin=1.0)
>>> round(f.alpha, 2), f.n_tail
(2.52, 4000)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import optimize, special

__all__ = ["PowerLawFit", "LRTest", "TailComparison", "fit_power_law", "loglikelihood_ratio",
           "compare_tails", "bootstrap_gof", "sample_power_law", "power_law_sampler", "ccdf"]

_ALPHA_MAX = 50.0


class PowerLawFit(NamedTuple):
    """A power-law tail fit: exponent, lower cut-off, KS distance, tail size, data size, standard error."""
    alpha: float
    xmin: float
    ks: float
    n_tail: int
    n: int                        # positive values the fit saw (tail and body)
    sigma: float                  # (alpha - 1) / sqrt(n_tail), asymptotic standard error
    discrete: bool


class LRTest(NamedTuple):
    """Log-likelihood ratio test: R = sum(l1 - l2) (> 0 favours the first), R_norm = R / (sqrt(n) sd),
    p = erfc(|R_norm| / sqrt(2)) (Vuong 1989, non-nested; Clauset et al. 2009 eq. 5.4)."""
    R: float
    R_norm: float
    p: float


class TailComparison(NamedTuple):
    """Power law against alternatives on the same tail (x >= xmin), with the alternatives' MLEs."""
    fit: PowerLawFit
    mu: float                     # log-normal truncated at xmin
    sigma: float
    lam: float                    # exponential rate above xmin
    vs_lognormal: LRTest
    vs_exponential: LRTest

    def verdict(self, p_level: float = 0.1) -> str:
        """'power_law', 'lognormal', 'exponential' or 'inconclusive': the significantly better tail model."""
        for name, t in (("lognormal", self.vs_lognormal), ("exponential", self.vs_exponential)):
            if t.p < p_level and t.R < 0:
                return name
        if all(t.p < p_level and t.R > 0 for t in (self.vs_lognormal, self.vs_exponential)):
            return "power_law"
        return "inconclusive"


# ----------------------------------------------------------------------------- data checks

def _clean(x, discrete: bool) -> np.ndarray:
    """Sorted positive values of ``x`` (float64); integers >= 1 for discrete data."""
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size and not np.isfinite(a).all():
        raise ValueError("heavy tail: data contain NaN or infinite values")
    if discrete:
        if a.size and (a != np.round(a)).any():
            raise ValueError("heavy tail: discrete=True needs integer data (e.g. degrees)")
        a = a[a >= 1]
    else:
        a = a[a > 0]
    return np.sort(a)


# ----------------------------------------------------------------------------- fits

def _discrete_alphas(sum_log: np.ndarray, n_tail: np.ndarray, xmin: np.ndarray) -> np.ndarray:
    """Exact discrete MLE for every candidate at once: maximise -n log zeta(a, xmin) - a sum(log x).

    The log-likelihood is concave in a, so a coarse grid (vectorised over candidates) brackets the
    maximum, a fine grid narrows it and a parabola through the best three points gives a to ~1e-7."""
    sum_log, n_tail, xmin = (np.asarray(a, np.float64) for a in (sum_log, n_tail, xmin))

    def ll(a):                                                  # a: (G, C)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            v = -n_tail * np.log(special.zeta(a, xmin)) - a * sum_log
        return np.where(np.isfinite(v), v, -np.inf)

    a = 1.0 + np.geomspace(1e-3, _ALPHA_MAX - 1.0, 160)[:, None] * np.ones(xmin.size)
    for width in (None, 40):
        v = ll(a)
        i = np.clip(np.argmax(v, axis=0), 1, a.shape[0] - 2)
        c = np.arange(xmin.size)
        lo, hi = a[i - 1, c], a[i + 1, c]
        a = lo + (hi - lo) * np.linspace(0.0, 1.0, width or 41)[:, None]
    v = ll(a)
    i = np.clip(np.argmax(v, axis=0), 1, a.shape[0] - 2)
    c = np.arange(xmin.size)
    x0, x1, x2 = a[i - 1, c], a[i, c], a[i + 1, c]
    y0, y1, y2 = v[i - 1, c], v[i, c], v[i + 1, c]
    den = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(den < 0, 0.5 * (y0 - y2) / den, 0.0) * (x1 - x0)
    return x1 + np.clip(np.nan_to_num(step), -(x1 - x0), x2 - x1)


def _ks_discrete(vals, counts, alpha, xmin) -> float:
    """KS distance between the tail's empirical CDF and the discrete power law (evaluated at data values)."""
    emp = np.cumsum(counts) / counts.sum()
    theo = 1.0 - special.zeta(alpha, vals + 1.0) / special.zeta(alpha, xmin)
    emp_before = np.concatenate([[0.0], emp[:-1]])
    theo_before = 1.0 - special.zeta(alpha, vals) / special.zeta(alpha, xmin)
    return float(max(np.abs(emp - theo).max(), np.abs(emp_before - theo_before).max()))


def _ks_continuous(logtail, alpha, logxmin) -> float:
    n = logtail.size
    cdf = -np.expm1((1.0 - alpha) * (logtail - logxmin))
    i = np.arange(1, n + 1)
    return float(max((i / n - cdf).max(), (cdf - (i - 1) / n).max()))


def fit_power_law(x, discrete: bool = False, xmin: float | None = None, min_tail: int = 10,
                  max_candidates: int = 400) -> PowerLawFit:
    """Fit a power-law tail by maximum likelihood with ``xmin`` chosen by minimum KS distance.

    ``xmin`` None: every distinct value except the largest that leaves >= ``min_tail`` points in the tail
    is a candidate; with more than ``max_candidates`` candidates, ``max_candidates`` of them evenly spaced
    in rank are tried (keeps large weight sets fast). Zeros (and, for continuous data, negatives) are
    ignored. Raises ValueError when no candidate is left.
    """
    x = _clean(x, discrete)
    n = x.size
    min_tail = max(int(min_tail), 2)
    if xmin is None:
        vals, first = np.unique(x, return_index=True)
        ok = (n - first >= min_tail) & (np.arange(vals.size) < vals.size - 1)
        cand, cand_i = vals[ok], first[ok]
        if cand.size == 0:
            raise ValueError(f"power-law fit: need at least {min_tail} positive values with 2 distinct ones, "
                             f"got {n} positive value(s)")
        if cand.size > max_candidates:
            pick = np.unique(np.linspace(0, cand.size - 1, max_candidates).round().astype(np.int64))
            cand, cand_i = cand[pick], cand_i[pick]
    else:
        if not np.isfinite(xmin) or xmin <= 0 or (discrete and xmin != round(xmin)):
            raise ValueError(f"power-law fit: xmin must be a positive {'integer' if discrete else 'number'}, "
                             f"got {xmin!r}")
        cand = np.array([float(xmin)])
        cand_i = np.searchsorted(x, cand, side="left")
    logx = np.log(x)
    suffix = np.concatenate([np.cumsum(logx[::-1])[::-1], [0.0]])            # suffix[i] = sum(log x[i:])
    n_tails = n - cand_i
    ok = (n_tails >= 2) & (x[np.minimum(cand_i, n - 1)] < x[-1])
    if not ok.all() and xmin is not None:
        raise ValueError(f"power-law fit: xmin = {xmin} leaves {int(n_tails[0])} value(s) that are not all "
                         "equal; need at least 2 distinct values")
    cand, cand_i, n_tails = cand[ok], cand_i[ok], n_tails[ok]
    if discrete and cand.size:
        alphas = _discrete_alphas(suffix[cand_i], n_tails, cand)
        vals, counts = np.unique(x, return_counts=True)
    else:
        alphas = 1.0 + n_tails / (suffix[cand_i] - n_tails * np.log(cand))
    best = None
    for c, i, n_tail, alpha in zip(cand, cand_i, n_tails, alphas):
        n_tail, alpha = int(n_tail), float(alpha)
        if discrete:
            j = np.searchsorted(vals, c)
            ks = _ks_discrete(vals[j:], counts[j:], alpha, float(c))
        else:
            ks = _ks_continuous(logx[i:], alpha, math.log(c))
        if best is None or ks < best.ks:
            best = PowerLawFit(alpha, float(c), ks, n_tail, n, (alpha - 1.0) / math.sqrt(n_tail), discrete)
    if best is None:
        raise ValueError("power-law fit: no xmin candidate leaves two distinct tail values")
    return best


def ccdf(x) -> tuple[np.ndarray, np.ndarray]:
    """Empirical complementary CDF P(X >= v) at the distinct values v of ``x`` (for log-log plots)."""
    a = np.sort(np.asarray(x, dtype=np.float64).ravel())
    v, first = np.unique(a, return_index=True)
    return v, (a.size - first) / max(a.size, 1)


# ----------------------------------------------------------------------------- likelihood-ratio tests

def loglikelihood_ratio(l1, l2) -> LRTest:
    """Vuong test of pointwise log-likelihoods ``l1`` vs ``l2`` (sd with ddof=0, as the powerlaw package)."""
    d = np.asarray(l1, np.float64) - np.asarray(l2, np.float64)
    n = d.size
    R = float(d.sum())
    sd = float(d.std()) if n else 0.0
    if n == 0 or sd == 0:
        return LRTest(R, math.nan, math.nan)
    rn = R / (math.sqrt(n) * sd)
    return LRTest(R, rn, float(special.erfc(abs(rn) / math.sqrt(2))))


def _ll_powerlaw(t, f: PowerLawFit):
    if f.discrete:
        return -f.alpha * np.log(t) - math.log(special.zeta(f.alpha, f.xmin))
    return math.log((f.alpha - 1.0) / f.xmin) - f.alpha * np.log(t / f.xmin)


def _ll_lognormal(t, xmin, mu, sigma, discrete):
    if discrete:        # log-normal mass of [x - 1/2, x + 1/2), renormalised to x >= xmin
        hi = special.log_ndtr((np.log(t + 0.5) - mu) / sigma)
        lo = special.log_ndtr((np.log(t - 0.5) - mu) / sigma)
        with np.errstate(divide="ignore", invalid="ignore"):
            # log(Phi(b) - Phi(a)) computed from the upper tails for accuracy far above the median
            up_lo = special.log_ndtr(-(np.log(t - 0.5) - mu) / sigma)
            up_hi = special.log_ndtr(-(np.log(t + 0.5) - mu) / sigma)
            mass = np.where(t - 0.5 > math.exp(mu), up_lo + np.log1p(-np.exp(up_hi - up_lo)),
                            hi + np.log1p(-np.exp(lo - hi)))
        return mass - special.log_ndtr(-(math.log(xmin - 0.5) - mu) / sigma)
    lx = np.log(t)
    return (-lx - math.log(sigma) - 0.5 * math.log(2 * math.pi) - (lx - mu) ** 2 / (2 * sigma ** 2)
            - special.log_ndtr(-(math.log(xmin) - mu) / sigma))


def _fit_lognormal(t, xmin, discrete):
    lx = np.log(t)
    m0, s0 = float(lx.mean()), max(float(lx.std()), 1e-3)

    def nll(p):
        v = -_ll_lognormal(t, xmin, p[0], math.exp(p[1]), discrete).sum()
        return v if np.isfinite(v) else 1e300

    best = None
    # a log-normal truncated far in its upper tail can imitate a power law (mu -> -inf): try several starts
    for start in ([m0, math.log(s0)], [math.log(xmin), math.log(s0) + 0.5], [m0 - 2 * s0, math.log(2 * s0)]):
        r = optimize.minimize(nll, start, method="Nelder-Mead",
                              options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
        if best is None or r.fun < best.fun:
            best = r
    return float(best.x[0]), float(math.exp(best.x[1]))


def compare_tails(x, fit: PowerLawFit | None = None, discrete: bool = False, min_tail: int = 10) -> TailComparison:
    """Vuong tests of the power law against a log-normal and an exponential fitted (MLE) to the same tail
    x >= xmin (``fit`` from :func:`fit_power_law`, made here when None). Discrete data use the exponential's
    geometric form and the log-normal's mass on [x - 1/2, x + 1/2); both renormalised above xmin."""
    fit = fit_power_law(x, discrete, min_tail=min_tail) if fit is None else fit
    t = _clean(x, fit.discrete)
    t = t[t >= fit.xmin]
    mu, sigma = _fit_lognormal(t, fit.xmin, fit.discrete)
    excess = float(t.mean() - fit.xmin)
    if fit.discrete:
        lam = math.log1p(1.0 / excess)                         # geometric MLE
        le = math.log(-math.expm1(-lam)) - lam * (t - fit.xmin)
    else:
        lam = 1.0 / excess
        le = math.log(lam) - lam * (t - fit.xmin)
    lp = _ll_powerlaw(t, fit)
    ll = _ll_lognormal(t, fit.xmin, mu, sigma, fit.discrete)
    return TailComparison(fit, mu, sigma, lam, loglikelihood_ratio(lp, ll), loglikelihood_ratio(lp, le))


# ----------------------------------------------------------------------------- bootstrap

def power_law_sampler(alpha: float, xmin: float, discrete: bool):
    """A function (size, rng) -> draws from the power law above xmin. Discrete: exact inverse CDF over a
    table of 10**4 values from xmin (built once), beyond it the continuous tail approximation of the
    table's remaining mass (CSN eq. D.6 style)."""
    if not discrete:
        return lambda size, rng: xmin * (1.0 - rng.random(size)) ** (-1.0 / (alpha - 1.0))
    v = np.arange(xmin, xmin + 10_000, dtype=np.float64)
    cdf = 1.0 - special.zeta(alpha, v + 1.0) / special.zeta(alpha, xmin)

    def draw(size, rng):
        u = rng.random(size)
        out = np.empty(size)
        inside = u <= cdf[-1]
        out[inside] = v[np.searchsorted(cdf, u[inside], side="left")]
        far = ~inside
        if far.any():
            w = (1.0 - u[far]) / (1.0 - cdf[-1])
            out[far] = np.maximum(np.floor((v[-1] + 0.5) * w ** (-1.0 / (alpha - 1.0)) + 0.5), v[-1] + 1)
        return out
    return draw


def sample_power_law(alpha: float, xmin: float, size: int, discrete: bool, rng) -> np.ndarray:
    """``size`` draws from the power law above xmin (see :func:`power_law_sampler`)."""
    return power_law_sampler(alpha, xmin, discrete)(size, rng)


def bootstrap_gof(x, fit: PowerLawFit | None = None, n_boot: int = 100, seed: int = 0, min_tail: int = 10,
                  max_candidates: int = 400, progress: bool = False, refit_xmin: bool = True) -> float:
    """Goodness-of-fit p-value of a power-law tail (CSN §4.1): the fraction of ``n_boot`` synthetic data
    sets whose own best fit (xmin re-chosen) has a KS distance >= the data's. Each synthetic set has the
    data's size; each point comes, with probability n_tail / n, from the fitted power law, otherwise
    uniformly from the data below xmin. p > 0.1: the power law is plausible. Resolution 1 / n_boot.
    ``refit_xmin=False`` keeps xmin fixed in the refits (for a fit whose xmin was given, not searched)."""
    data = _clean(x, discrete=fit.discrete if fit is not None else False)
    fit = fit_power_law(data, min_tail=min_tail, max_candidates=max_candidates) if fit is None else fit
    if int(n_boot) < 1:
        raise ValueError(f"bootstrap_gof: n_boot must be >= 1, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    body = data[data < fit.xmin]
    n = data.size
    exceed = 0
    draw = power_law_sampler(fit.alpha, fit.xmin, fit.discrete)
    reps = range(int(n_boot))
    if progress:
        from tqdm import tqdm
        reps = tqdm(reps, desc="bootstrap GOF", unit="fit", leave=False)
    for _ in reps:
        k = int(rng.binomial(n, fit.n_tail / n)) if body.size else n
        synth = np.concatenate([draw(k, rng),
                                body[rng.integers(0, body.size, n - k)] if body.size else np.zeros(0)])
        try:
            ks = fit_power_law(synth, fit.discrete, xmin=None if refit_xmin else fit.xmin, min_tail=min_tail,
                               max_candidates=max_candidates).ks
        except ValueError:
            continue                                           # degenerate synthetic set: counts as not exceeding
        exceed += ks >= fit.ks
    return exceed / int(n_boot)
