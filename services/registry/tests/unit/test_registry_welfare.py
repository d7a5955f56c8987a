"""Welfare score and decile (rules/welfare.py)."""
import random

import pytest

from setiakawan_registry.rules import welfare
from setiakawan_registry.rules.welfare import WelfareModel

MODEL = WelfareModel()
LINE = MODEL.poverty_line

# Each indicator's values from poorest to richest, written out from the
# domain (DTKS/Regsosek), not copied from the points tables.
LADDERS = {
    "floor": ["earth", "bamboo", "wood", "cement", "ceramic"],
    "wall": ["bamboo", "wood", "brick_unplastered", "brick"],
    "roof": ["thatch", "zinc", "tile", "concrete"],
    "electricity": ["none", "shared", "pln_450", "pln_900", "pln_1300"],
    "water": ["river", "unprotected_well", "protected_well", "piped"],
    "sanitation": ["none", "shared", "private"],
}
POOREST = dict({k: v[0] for k, v in LADDERS.items()}, monthly_income=0, assets=[])
RICHEST = dict({k: v[-1] for k, v in LADDERS.items()}, monthly_income=100_000_000, assets=list(welfare.ASSETS))


def random_household(rng):
    indicators = {k: rng.choice(v) for k, v in LADDERS.items()}
    indicators["monthly_income"] = rng.choice([0, rng.randint(0, 2 * LINE), rng.randint(0, 60_000_000)])
    indicators["assets"] = rng.sample(list(welfare.ASSETS), rng.randint(0, 3))
    return indicators, rng.randint(1, 15)


def test_the_ladders_cover_every_value_of_every_indicator():
    assert {k: set(v) for k, v in LADDERS.items()} == {k: set(v) for k, v in welfare.CHOICES.items()}


def test_the_poorest_household_scores_0_and_the_richest_100():
    assert MODEL.score(POOREST, 5) == 0
    assert MODEL.score(RICHEST, 1) == 100
    assert MODEL.decile(MODEL.score(POOREST, 5)) == 1
    assert MODEL.decile(MODEL.score(RICHEST, 1)) == 10


def test_scores_stay_between_0_and_100_with_two_decimals():
    rng = random.Random(1)
    for _ in range(2000):
        indicators, size = random_household(rng)
        score = MODEL.score(indicators, size)
        assert 0 <= score <= 100, (indicators, size, score)
        assert score == round(score, 2)
        assert 1 <= MODEL.decile(score) <= 10


@pytest.mark.parametrize("indicator", sorted(LADDERS))
def test_a_poorer_value_never_scores_higher_than_a_richer_one(indicator):
    rng = random.Random(indicator)
    for _ in range(200):
        base, size = random_household(rng)
        scores = [MODEL.score(dict(base, **{indicator: value}), size) for value in LADDERS[indicator]]
        assert scores == sorted(scores), (indicator, base, scores)
        assert scores[0] < scores[-1], "the richest value must be worth something"


def test_more_income_never_lowers_the_score():
    rng = random.Random(2)
    for _ in range(200):
        base, size = random_household(rng)
        incomes = sorted(rng.randint(0, 20_000_000) for _ in range(6))
        scores = [MODEL.score(dict(base, monthly_income=i), size) for i in incomes]
        assert scores == sorted(scores)


def test_income_is_per_person_so_a_bigger_household_scores_lower_or_equal():
    rng = random.Random(3)
    for _ in range(200):
        base, _ = random_household(rng)
        scores = [MODEL.score(base, size) for size in range(1, 16)]
        assert scores == sorted(scores, reverse=True), (base, scores)
    modest = dict(POOREST, monthly_income=1_200_000)
    assert MODEL.score(modest, 4) < MODEL.score(modest, 1)


def test_income_points_are_capped_at_three_poverty_lines_per_person():
    at_cap = dict(POOREST, monthly_income=3 * LINE * 4)
    assert MODEL.points(at_cap, 4)["income"] == 1.0
    assert MODEL.score(dict(at_cap, monthly_income=10 * at_cap["monthly_income"]), 4) == MODEL.score(at_cap, 4)
    assert MODEL.points(dict(POOREST, monthly_income=3 * LINE), 2)["income"] == 0.5


def test_a_household_of_size_0_is_scored_as_one_person():
    assert MODEL.score(dict(POOREST, monthly_income=LINE), 0) == MODEL.score(dict(POOREST, monthly_income=LINE), 1)


def test_assets_count_once_each_are_capped_and_never_lower_the_score():
    assert MODEL.score(dict(POOREST, assets=["motorcycle", "motorcycle"]), 3) == \
        MODEL.score(dict(POOREST, assets=["motorcycle"]), 3)
    assert MODEL.points(dict(POOREST, assets=list(welfare.ASSETS)), 3)["assets"] == 1.0
    assert MODEL.score(dict(POOREST, assets=["car"]), 3) == MODEL.score(dict(POOREST, assets=list(welfare.ASSETS)), 3)
    rng = random.Random(4)
    for _ in range(200):
        base, size = random_household(rng)
        extra = rng.choice(list(welfare.ASSETS))
        assert MODEL.score(dict(base, assets=base["assets"] + [extra]), size) >= MODEL.score(base, size)


def test_income_carries_the_largest_weight():
    only_income = dict(POOREST, monthly_income=3 * LINE)
    only_floor = dict(POOREST, floor="ceramic")
    assert MODEL.score(only_income, 1) > MODEL.score(only_floor, 1)


@pytest.mark.parametrize("score, decile", [
    (0, 1), (14.99, 1), (15, 2), (24.99, 2), (25, 3), (34.99, 3), (35, 4), (45, 5), (55, 6), (64.99, 6),
    (65, 7), (75, 8), (84.99, 8), (85, 9), (91.99, 9), (92, 10), (100, 10)])
def test_decile_is_one_plus_the_cut_points_reached(score, decile):
    assert MODEL.decile(score) == decile


def test_decile_never_decreases_as_the_score_rises():
    deciles = [MODEL.decile(s / 100) for s in range(0, 10_001)]
    assert deciles == sorted(deciles)
    assert set(deciles) == set(range(1, 11))


# from_config ---------------------------------------------------------------------------------------------------

def test_from_config_without_settings_is_the_default_model():
    assert WelfareModel.from_config(None) == MODEL
    assert WelfareModel.from_config({}) == MODEL


def test_from_config_merges_partial_weights_and_reads_the_poverty_line():
    model = WelfareModel.from_config({"weights": {"income": 2}, "poverty_line": "750000",
                                      "cut_points": [10, 20, 30, 40, 50, 60, 70, 80, 90]})
    assert model.weights == dict(MODEL.weights, income=2)
    assert model.poverty_line == 750_000
    assert model.decile(10) == 2
    assert model.points(dict(POOREST, monthly_income=3 * 750_000), 1)["income"] == 1.0


def test_a_zero_weight_removes_an_indicator_from_the_score():
    model = WelfareModel.from_config({"weights": {"floor": 0}})
    assert model.score(dict(POOREST, floor="ceramic"), 1) == model.score(POOREST, 1)


@pytest.mark.parametrize("config", [
    {"weights": {"income": -1}},
    {"weights": {"television": 1}},
    {"weights": {k: 0 for k in MODEL.weights}},
    {"cut_points": [15, 25, 35, 45, 55, 65, 75, 85]},
    {"cut_points": [15, 25, 35, 45, 55, 65, 75, 85, 92, 96]},
    {"cut_points": [92, 85, 75, 65, 55, 45, 35, 25, 15]},
    {"cut_points": [15, 25, 35, 45, 40, 65, 75, 85, 92]},
], ids=["negative weight", "unknown indicator", "all weights zero", "8 cut points", "10 cut points",
        "descending cut points", "one cut point out of order"])
def test_from_config_refuses_bad_settings(config):
    with pytest.raises(ValueError, match="WELFARE"):
        WelfareModel.from_config(config)


def test_from_config_refuses_a_negative_poverty_line():
    with pytest.raises(ValueError):
        WelfareModel.from_config({"poverty_line": -600_000})


@pytest.mark.parametrize("model", [MODEL, WelfareModel.from_config(
    {"weights": {"income": 2.5, "roof": 0.1, "assets": 3}, "poverty_line": 750_000})])
def test_the_scorer_gives_the_scores_result_to_the_bit(model):
    rng = random.Random(12)
    scorer = model.scorer()
    for _ in range(5000):
        indicators, size = random_household(rng)
        assets = tuple(sorted(indicators["assets"]))
        choices = tuple(indicators[name] for name in welfare.CHOICES)
        assert scorer(indicators["monthly_income"], choices, assets, size) == model.score(indicators, size)
        assert scorer(indicators["monthly_income"], choices, assets, 0) == model.score(indicators, 0)
