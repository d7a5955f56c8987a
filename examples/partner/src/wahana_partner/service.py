"""The NGO's nameko entrypoints: thin translations from HTTP and
Setiakawan's events to the use cases."""
from nameko.dependency_providers import Config

from setiakawan_kit.consumer import handles
from setiakawan_kit.http import api
from setiakawan_kit.service import KitService

from . import schemas, topup
from .setiakawan_api import DistributionApi

STAFF = ("admin", "operator", "field_officer", "viewer")


class WahanaService(KitService):
    name = "wahana"
    distribution = DistributionApi()
    config = Config()

    @property
    def district(self):
        return str(self.config.get("DISTRICT") or "62.13")

    @handles("registry", "household.verified", name="verified_households")
    def on_household_verified(self, uow, event):
        topup.remember_household(uow, event.data["household"], self.district)

    @handles("registry", "household.status_changed", name="household_status")
    def on_household_status_changed(self, uow, event):
        topup.remember_household(uow, event.data["household"], self.district)

    @handles("distribution", "entitlement.issued", name="entitlement_issued")
    def on_entitlement_issued(self, uow, event):
        topup.remember_entitlement(uow, event.data["entitlement"])

    @handles("distribution", "entitlement.blocked", name="entitlement_blocked")
    def on_entitlement_blocked(self, uow, event):
        topup.remember_entitlement(uow, event.data["entitlement"], event.data["blocked_by"])

    @handles("distribution", "entitlement.revoked", name="entitlement_revoked")
    def on_entitlement_revoked(self, uow, event):
        topup.remember_entitlement(uow, event.data["entitlement"])

    @handles("distribution", "aid.delivered", name="aid_delivered")
    def on_aid_delivered(self, uow, event):
        topup.remember_entitlement(uow, event.data["entitlement"])

    @api("POST", "/top-ups", body=schemas.TopUpIn, response=schemas.TopUpOut, roles=("admin",), status=201,
         summary="Start the month's food top-up in Setiakawan")
    def start_top_up(self, call):
        return 201, topup.start_top_up(self.db, self.distribution, call.identity, district=self.district,
                                       warehouse_village=str(self.config.get("WAREHOUSE_VILLAGE") or ""),
                                       **call.body)

    @api("GET", "/households", query=schemas.HouseholdQuery, response=[schemas.HouseholdOut], roles=STAFF,
         summary="The district's verified households and what each top-up did for them")
    def list_households(self, call):
        return topup.households(self.db, call.identity, call.query.get("village_code"))

    @api("POST", "/deliveries", body=schemas.DeliveryIn, response=schemas.DeliveryOut,
         roles=("admin", "operator", "field_officer"), status=201, summary="A package handed over")
    def record_delivery(self, call):
        return 201, topup.record_delivery(self.db, self.distribution, call.identity, **call.body)
