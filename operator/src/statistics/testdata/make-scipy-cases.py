#!/usr/bin/env python3
"""Writes scipy-cases.json: drift statistics computed with SciPy, for the jest tests to check ours against.

The operator's statistics (operator/src/statistics) are written in TypeScript; these values come from an
independent implementation, so a mistake in ours cannot be mirrored here. `make test` only reads the committed
JSON and never needs Python. To regenerate (SciPy in a venv under .cache, never part of the test run):

    python3 -m venv .cache/stats-venv && .cache/stats-venv/bin/pip install scipy
    .cache/stats-venv/bin/python operator/src/statistics/testdata/make-scipy-cases.py

How each statistic is obtained from SciPy:
- PSI: SciPy has no PSI; PSI = sum((a - e) * ln(a / e)) = sum(rel_entr(a, e)) + sum(rel_entr(e, a)) (the
  symmetric Kullback-Leibler divergence), with scipy.special.rel_entr on the proportions after replacing those
  below epsilon by epsilon (no renormalisation, the usual convention, e.g. Evidently's).
- KS on bins: scipy.stats.ks_2samp on samples that put each bin's count at the bin's index; its statistic is
  then exactly the largest distance between the two binned CDFs. Non-integer counts (weights) have no sample
  form; for those the binned CDFs are compared with numpy directly (marked "ksSource": "numpy").
- Jensen-Shannon distance: scipy.spatial.distance.jensenshannon(reference, live, base=2).
- Chi-square: scipy.stats.chi2_contingency on the 2 x k table [reference, live] without Yates' correction,
  after dropping the bins empty in both (they carry no information and would make an expected count zero).
- The regularised upper incomplete gamma Q(a, x) behind the p-value: scipy.special.gammaincc.
"""

import json
import math
import pathlib

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.special import gammaincc, rel_entr
from scipy.stats import chi2_contingency, ks_2samp

PSI_EPSILON = 1e-4


def psi(reference, live, epsilon=PSI_EPSILON):
    e = np.asarray(reference, float) / np.sum(reference)
    a = np.asarray(live, float) / np.sum(live)
    e = np.where(e < epsilon, epsilon, e)
    a = np.where(a < epsilon, epsilon, a)
    return float(np.sum(rel_entr(a, e)) + np.sum(rel_entr(e, a)))


def ks_binned(reference, live):
    ref = np.asarray(reference, float)
    liv = np.asarray(live, float)
    if np.all(ref == np.round(ref)) and np.all(liv == np.round(liv)):
        bins = np.arange(len(ref))
        res = ks_2samp(np.repeat(bins, ref.astype(int)), np.repeat(bins, liv.astype(int)))
        return float(res.statistic), "scipy.stats.ks_2samp"
    cdf_ref = np.cumsum(ref) / ref.sum()
    cdf_live = np.cumsum(liv) / liv.sum()
    return float(np.max(np.abs(cdf_ref - cdf_live))), "numpy"


def chi_square(reference, live):
    table = np.array([reference, live], float)
    table = table[:, table.sum(axis=0) > 0]
    res = chi2_contingency(table, correction=False)
    return {"statistic": float(res.statistic), "pValue": float(res.pvalue), "dof": int(res.dof)}


def binned_normal(rng, n, mean, sd, edges):
    """Counts per bin of n normal draws, with the reference file's open outer bins."""
    values = rng.normal(mean, sd, n)
    return np.bincount(np.searchsorted(edges[1:-1], values, side="left"), minlength=len(edges) - 1).tolist()


def distribution_cases():
    cases = [
        ("identical", [10, 20, 30, 40], [10, 20, 30, 40]),
        ("identical shape, different totals", [1, 2, 3, 4], [100, 200, 300, 400]),
        ("uniform deciles, mild change", [100] * 10, [90, 95, 100, 105, 110, 100, 100, 95, 105, 100]),
        ("empty bin in live", [10, 10, 10, 10], [0, 20, 10, 10]),
        ("empty bin in reference", [0, 5, 10, 5], [2, 5, 10, 5]),
        ("zero-probability bin in both", [5, 0, 5], [3, 0, 7]),
        ("zero-probability bins at both ends", [0, 0, 4, 6, 0], [0, 0, 7, 3, 0]),
        ("disjoint halves", [10, 10, 0, 0], [0, 0, 10, 10]),
        ("disjoint, one observation each", [1, 0, 0], [0, 1, 0]),
        ("tiny samples, two bins", [1, 1], [2, 0]),
        ("tiny samples, four bins", [3, 0, 1, 0], [0, 2, 1, 1]),
        ("one live observation", [25, 50, 25], [0, 1, 0]),
        ("single bin", [5], [7]),
        ("weights, not counts", [0.5, 1.5, 2.0], [1.25, 0.75, 2.0]),
        ("large counts, tiny shift", [10000, 20000, 30000, 40000], [10100, 19900, 30050, 39950]),
        ("large counts, strong shift (p-value far in the tail)", [50000, 30000, 15000, 5000], [5000, 15000, 30000, 50000]),
    ]
    rng = np.random.default_rng(20240611)
    edges = np.concatenate([[-6.0], np.linspace(-2.5, 2.5, 19), [6.0]])  # 20 bins
    reference = binned_normal(rng, 5000, 0.0, 1.0, edges)
    cases.append(("20 bins, same distribution, new sample", reference, binned_normal(rng, 2000, 0.0, 1.0, edges)))
    cases.append(("20 bins, mean shifted by 0.25 sd", reference, binned_normal(rng, 2000, 0.25, 1.0, edges)))
    cases.append(("20 bins, mean shifted by 1 sd", reference, binned_normal(rng, 2000, 1.0, 1.0, edges)))
    cases.append(("20 bins, variance doubled", reference, binned_normal(rng, 2000, 0.0, math.sqrt(2), edges)))
    cases.append(("20 bins, 30 live observations", reference, binned_normal(rng, 30, 0.5, 1.0, edges)))

    out = []
    for name, reference, live in cases:
        ks, ks_source = ks_binned(reference, live)
        out.append(
            {
                "name": name,
                "reference": reference,
                "live": live,
                "psi": psi(reference, live),
                "psiEpsilon1e-6": psi(reference, live, 1e-6),
                "ks": ks,
                "ksSource": ks_source,
                "jensenShannon": float(jensenshannon(reference, live, base=2)),
                "chiSquare": chi_square(reference, live),
            }
        )
    return out


def gamma_cases():
    out = []
    for a in [0.5, 1, 1.5, 2, 2.5, 3, 4.5, 5, 9.5, 10, 25, 50, 99.5, 250, 500]:
        for factor in [0.001, 0.1, 0.5, 0.9, 1, 1.1, 1.5, 2, 5, 10]:
            x = a * factor
            out.append({"a": a, "x": x, "q": float(gammaincc(a, x))})
    for a, x in [(0.5, 0), (3, 0), (1, 700), (0.5, 50), (2, 300), (10, 400)]:
        out.append({"a": a, "x": x, "q": float(gammaincc(a, x))})
    return out


def main():
    path = pathlib.Path(__file__).with_name("scipy-cases.json")
    data = {
        "generatedBy": f"make-scipy-cases.py with SciPy {scipy.__version__}, NumPy {np.__version__}",
        "psiEpsilon": PSI_EPSILON,
        "distributions": distribution_cases(),
        "regularizedUpperGamma": gamma_cases(),
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
