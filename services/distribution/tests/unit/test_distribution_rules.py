"""The distribution service's pure rules: a programme's shape and
lifecycle, cash amounts and splits, who may collect aid and when, stock
moves and when a point is low, who sees what."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from setiakawan_distribution.rules import access, delivery, programmes, stock
from setiakawan_kit.auth import Identity


def test_the_lifecycle_goes_draft_active_closed_only():
    assert programmes.next_status("draft", "activate") == "active"
    assert programmes.next_status("active", "close") == "closed"
    for status, action in (("active", "activate"), ("closed", "activate"), ("draft", "close"), ("closed", "close")):
        with pytest.raises(programmes.TransitionRefused):
            programmes.next_status(status, action)


@pytest.mark.parametrize("shape, field", [
    (programmes.Shape("in_kind", ()), "items"),
    (programmes.Shape("equipment", ()), "items"),
    (programmes.Shape("cash", ()), "cash"),
    (programmes.Shape("in_kind", ({"item": "beras"},), "per_beneficiary", 1), "cash"),
    (programmes.Shape("group_grant", (), "per_beneficiary", 1), "group_kind"),
    (programmes.Shape("group_grant", (), group_kind="kube"), "cash"),
    (programmes.Shape("group_grant", (), "per_member", 1, "kube"), "cash.basis"),
    (programmes.Shape("cash", (), "per_beneficiary", 1, "kube"), "group_kind"),
    (programmes.Shape("cash", (), "split_total", 100, budget=50), "budget"),
])
def test_a_programme_that_does_not_say_what_it_gives_is_refused(shape, field):
    assert field in programmes.check_shape(shape)


def test_well_shaped_programmes_pass():
    for shape in (programmes.Shape("in_kind", ({"item": "beras"},)),
                  programmes.Shape("cash", (), "per_member", 300_000),
                  programmes.Shape("cash", (), "split_total", 48_000_000, budget=48_000_000),
                  programmes.Shape("group_grant", (), "per_beneficiary", 20_000_000, "kube"),
                  programmes.Shape("group_grant", ({"item": "mesin jahit"},), group_kind="lks")):
        assert programmes.check_shape(shape) == {}, shape


def test_a_period_must_run_forward_and_not_past_five_years():
    assert programmes.check_period(date(2026, 12, 1), date(2026, 12, 31)) == {}
    assert "period.ends_on" in programmes.check_period(date(2026, 12, 31), date(2026, 12, 1))
    assert "period.ends_on" in programmes.check_period(date(2026, 1, 1), date(2032, 1, 1))


def test_cash_is_per_beneficiary_or_per_member_and_a_total_splits_in_whole_rupiah():
    assert programmes.amount_owed("per_beneficiary", 600_000, 4) == 600_000
    assert programmes.amount_owed("per_member", 300_000, 4) == 1_200_000
    assert programmes.amount_owed("split_total", 48_000_000, 4) is None
    assert programmes.split(48_000_000, 16) == [3_000_000] * 16
    shares = programmes.split(100, 7)
    assert sum(shares) == 100 and shares == [15, 15] + [14] * 5
    assert programmes.split(5, 0) == []


def test_aid_goes_to_the_head_or_an_adult_member():
    assert delivery.may_collect({"relationship": "head", "age": 16})[0]
    assert delivery.may_collect({"relationship": "spouse", "age": 17})[0]
    refused, why = delivery.may_collect({"relationship": "child", "age": 12})
    assert not refused and "17" in why
    assert delivery.may_collect(None) == (False, "The recipient is not a member of the household.")


def test_an_offline_delivery_keeps_its_time_but_not_one_in_the_future_or_before_the_period():
    now = datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc)
    start = date(2026, 12, 1)
    assert delivery.check_time(now - timedelta(days=2), now, start) is None
    assert delivery.check_time(now + timedelta(minutes=4), now, start) is None
    assert "future" in delivery.check_time(now + timedelta(minutes=6), now, start)
    assert "before" in delivery.check_time(datetime(2026, 11, 20, tzinfo=timezone.utc), now, start)


def test_stock_moves_and_the_low_mark():
    assert stock.EFFECTS["received"] == (1, 0) and stock.EFFECTS["delivered"] == (-1, -1)
    assert stock.delivered_allocation(Decimal("4"), Decimal("10")) == Decimal("4")
    assert stock.delivered_allocation(Decimal("40"), Decimal("10")) == Decimal("10")
    assert stock.is_low(Decimal(100), Decimal(95), Decimal(10))
    assert not stock.is_low(Decimal(100), Decimal(0), Decimal(0))
    assert stock.became_low((Decimal(30), Decimal(0)), (Decimal(20), Decimal(15)), Decimal(10))
    assert not stock.became_low((Decimal(8), Decimal(0)), (Decimal(5), Decimal(0)), Decimal(10))  # told already
    assert [stock.decimal_text(v) for v in (Decimal("10.000"), Decimal("2.500"), 0, "1E+1")] == ["10", "2.5", "0", "10"]


def identity(agency, regions, role="operator"):
    return Identity(agency=agency, kind="district", role=role, regions=tuple(regions))


def test_who_sees_and_runs_a_programme():
    programme = {"agency": "Dinsos Kalteng", "partners": ["PT Adaro"], "status": "active", "region_codes": ["62.13"]}
    owner, partner = identity("Dinsos Kalteng", ["62"]), identity("PT Adaro", ["63"])
    district, stranger = identity("Dinsos Bartim", ["62.13"]), identity("Dinsos Balangan", ["63.11"])
    village = identity("Desa Pulau Patai", ["62.13.01.2003"], role="field_officer")
    assert all(access.sees_programme(who, programme) for who in (owner, partner, district, village))
    assert not access.sees_programme(stranger, programme)
    assert not access.sees_programme(district, dict(programme, status="draft"))
    assert access.manages(owner, programme) and not access.manages(district, programme)
    assert access.delivers(village, programme, "62.13.01.2003")
    assert not access.delivers(village, programme, "62.13.01.2004")
    assert not access.delivers(identity("Dinsos Kalteng", ["62"], role="viewer"), programme, "62.13.01.2003")
