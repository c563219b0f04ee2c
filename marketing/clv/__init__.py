"""Customer lifetime value with buy-till-you-die models: BG/NBD purchases, Gamma-Gamma spend.

The models are the published likelihoods maximised with scipy (no extra dependency; see
benchmarks/results/clv_dependency.md for the measurement behind that choice), validated
against the CDNOW estimates of Fader, Hardie and Lee (tests/test_clv.py).
"""

from marketing.clv._mle import ConvergenceError
from marketing.clv.bgnbd import BetaGeo
from marketing.clv.gamma_gamma import GammaGamma
from marketing.clv.summary import btyd_summary
from marketing.clv.value import clv, per_period_rate

__all__ = ["BetaGeo", "ConvergenceError", "GammaGamma", "btyd_summary", "clv", "per_period_rate"]
