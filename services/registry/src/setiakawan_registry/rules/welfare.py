"""Welfare indicators, the welfare score and the decile.

The score runs from 0 (poorest) to 100. Each indicator earns points between
0 and 1, the score is their weighted mean times 100, and the decile is 1 plus
the number of cut points the score reaches (decile 1 = poorest). Weights, the
poverty line and the cut points are configuration (``WELFARE`` in the
service's config.yaml), so an agency can recalibrate without a code change.

Indicators (a deliberately small set, after the DTKS/Regsosek questions):

============  =====================================================  ========
indicator     values (points)                                        weight
============  =====================================================  ========
income        monthly household income in Rupiah, per person, as a   4
              share of 3 × the poverty line (capped at 1)
floor         earth 0, bamboo .3, wood .5, cement .8, ceramic 1      1
wall          bamboo 0, wood .4, brick_unplastered .7, brick 1       1
roof          thatch 0, zinc .6, tile .8, concrete 1                 .5
electricity   none 0, shared .2, pln_450 .5, pln_900 .8, pln_1300 1  1
water         river 0, unprotected_well .3, protected_well .7,       1
              piped 1
sanitation    none 0, shared .5, private 1                           1
assets        each of motorcycle, refrigerator, land, livestock,      1.5
              boat, gold, car earns its value; capped at 1
============  =====================================================  ========
"""
from bisect import bisect_right
from dataclasses import dataclass, field

FLOOR = {"earth": 0.0, "bamboo": 0.3, "wood": 0.5, "cement": 0.8, "ceramic": 1.0}
WALL = {"bamboo": 0.0, "wood": 0.4, "brick_unplastered": 0.7, "brick": 1.0}
ROOF = {"thatch": 0.0, "zinc": 0.6, "tile": 0.8, "concrete": 1.0}
ELECTRICITY = {"none": 0.0, "shared": 0.2, "pln_450": 0.5, "pln_900": 0.8, "pln_1300": 1.0}
WATER = {"river": 0.0, "unprotected_well": 0.3, "protected_well": 0.7, "piped": 1.0}
SANITATION = {"none": 0.0, "shared": 0.5, "private": 1.0}
ASSETS = {"motorcycle": 0.3, "refrigerator": 0.2, "land": 0.3, "livestock": 0.2, "boat": 0.2, "gold": 0.2,
          "car": 1.0}
CHOICES = {"floor": FLOOR, "wall": WALL, "roof": ROOF, "electricity": ELECTRICITY, "water": WATER,
           "sanitation": SANITATION}


@dataclass(frozen=True)
class WelfareModel:
    weights: dict = field(default_factory=lambda: {
        "income": 4.0, "floor": 1.0, "wall": 1.0, "roof": 0.5, "electricity": 1.0, "water": 1.0,
        "sanitation": 1.0, "assets": 1.5})
    poverty_line: int = 600_000  # Rupiah per person per month (Kalimantan Tengah, 2024 order of magnitude)
    cut_points: tuple = (15, 25, 35, 45, 55, 65, 75, 85, 92)

    @classmethod
    def from_config(cls, config):
        config = config or {}
        model = cls()
        weights = dict(model.weights, **(config.get("weights") or {}))
        cut_points = tuple(config.get("cut_points") or model.cut_points)
        if (sorted(weights) != sorted(model.weights)
                or not all(isinstance(w, (int, float)) and w >= 0 for w in weights.values())
                or not sum(weights.values())):
            raise ValueError("WELFARE.weights must give a non-negative number to each indicator")
        if (len(cut_points) != 9 or not all(isinstance(c, (int, float)) and 0 < c <= 100 for c in cut_points)
                or any(a >= b for a, b in zip(cut_points, cut_points[1:]))):
            raise ValueError("WELFARE.cut_points must be 9 strictly ascending scores between 0 and 100")
        poverty_line = int(config.get("poverty_line") or model.poverty_line)
        if poverty_line <= 0:
            raise ValueError("WELFARE.poverty_line must be a positive number of Rupiah")
        return cls(weights, poverty_line, cut_points)

    def points(self, indicators, size):
        per_person = indicators["monthly_income"] / max(size, 1)
        assets = _added(ASSETS[a] for a in sorted(set(indicators.get("assets") or ())))  # one order everywhere
        points = {name: CHOICES[name][indicators[name]] for name in CHOICES}
        points["income"] = min(1.0, per_person / (3 * self.poverty_line))
        points["assets"] = min(1.0, assets)
        return points

    def score(self, indicators, size):
        points = self.points(indicators, size)
        total = sum(self.weights.values())
        return round(100 * _added(self.weights[k] * points[k] for k in self.weights) / total, 2)

    def terms(self, choices, assets):
        """The weighted points of each indicator but income (None in its
        place), in the order of the weights, for the six choices in the
        order of ``CHOICES`` and the assets."""
        points = self.points(dict(zip(CHOICES, choices), monthly_income=0, assets=assets), 1)
        return [None if k == "income" else self.weights[k] * points[k] for k in self.weights]

    def scorer(self):
        """``score`` for many households, faster: the terms of each
        combination of choices and assets are worked out once. It gives
        ``score``'s result to the bit (the same terms, added in the same order).
        Call it as ``scorer(income, choices, assets, size)`` with the six
        choices in the order of ``CHOICES``."""
        total, terms_of = sum(self.weights.values()), {}
        income_weight, income_scale = self.weights["income"], 3 * self.poverty_line

        def score(income, choices, assets, size):
            terms = terms_of.get((choices, assets))
            if terms is None:
                terms = terms_of[(choices, assets)] = self.terms(choices, assets)
            income_term = income_weight * min(1.0, income / max(size, 1) / income_scale)
            return round(100 * _added(income_term if t is None else t for t in terms) / total, 2)
        return score

    def decile(self, score):
        return 1 + bisect_right(self.cut_points, score)  # the cut points ascend (from_config checks)


def _added(terms):
    """The terms added one after the other, from the first. ``sum`` of floats
    does this in Python 3.11 but compensates for rounding from 3.12 on; the
    bulk import's C scorer adds them this way, so the score is defined so."""
    total = 0.0
    for term in terms:
        total += term
    return total
