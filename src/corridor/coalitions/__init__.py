"""Coalitions: transferable-utility games and their fair splits, network games in which a
coalition's value is what the optimiser finds on that coalition's own assets, and security of
supply (N-1 and disruption runs).

- `game`: TUGame — values, exact Shapley value, core, superadditivity, convexity;
- `nucleolus`: (pre)nucleolus by sequential LPs, least core, Kohlberg's criterion;
- `sampling`: stratified permutation-sampling Shapley value with confidence intervals;
- `assets`: who holds each asset, and the sub-network a coalition may use;
- `network_game`: every coalition's value from one warm-started HiGHS model;
- `summary`, `report`: what `corridor coalition` prints and writes;
- `security`: N-1 (EU 2017/1938 Annex II) and peak-day disruptions.
"""

from corridor.coalitions.game import CoreCheck, GameError, TUGame
from corridor.coalitions.sampling import ShapleyEstimate

__all__ = ["TUGame", "GameError", "CoreCheck", "ShapleyEstimate"]
