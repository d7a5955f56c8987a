"""The seed reports' programmes, played through the services' own APIs:
every agency with its own token, every household registered and verified
as a field office would, every benefit issued by the distribution service
from the events it receives. Each story returns what it made, for the
summary and for the end-to-end tests."""
import uuid
from datetime import date, datetime, timezone

from .households import Households, body
from .platform import Agency, eventually

MONTH_START, MONTH_END = date(2026, 12, 1), date(2026, 12, 31)
PERIOD = {"starts_on": MONTH_START.isoformat(), "ends_on": MONTH_END.isoformat()}
SEMBAKO_ITEMS = [{"item": "beras", "quantity": "10", "unit": "kg"},
                 {"item": "minyak goreng", "quantity": "2", "unit": "l"},
                 {"item": "gula pasir", "quantity": "1", "unit": "kg"}]

PROV_KALTENG = Agency("Dinas Sosial Provinsi Kalimantan Tengah", "province", ("62",))
BARITO_TIMUR = Agency("Dinas Sosial Kabupaten Barito Timur", "district", ("62.13",))
DESA_PULAU_PATAI = Agency("Pemerintah Desa Pulau Patai", "village", ("62.13.01.2003",))
PROV_KALSEL = Agency("Dinas Sosial Provinsi Kalimantan Selatan", "province", ("63",))
BALANGAN = Agency("Dinas Sosial Kabupaten Balangan", "district", ("63.11",))
PROV_KALTARA = Agency("Dinas Sosial Provinsi Kalimantan Utara", "province", ("65",))
DESA_GUNUNG_PUTIH = Agency("Pemerintah Desa Gunung Putih", "village", ("65.01.01.2005",))
KUKAR = Agency("Dinas Sosial Kabupaten Kutai Kartanegara", "district", ("64.02",))
WONOSOBO = Agency("Dinas Sosial Kabupaten Wonosobo", "district", ("33.07",))
CSR = Agency("PT Sumber Rejeki Leksono (CSR)", "csr", ("33.07.05",))

#: the name by which a second run knows that the demo is loaded
MARKER = "Sembako Berbagi Berkah Kalimantan Tengah, Desember 2026"


def sessions(days, village, hours=(1, 7)):
    """Course sessions on the given days of November 2026, 08:00 to 14:00 WIB."""
    return [{"starts_at": datetime(2026, 11, day, hours[0], tzinfo=timezone.utc).isoformat(),
             "ends_at": datetime(2026, 11, day, hours[1], tzinfo=timezone.utc).isoformat(),
             "venue_village_code": village} for day in days]


class Story:
    """Shared steps: register and verify households, run a course to its end."""

    def __init__(self, platform, households, say):
        self.platform, self.households, self.say = platform, households, say

    def register(self, agency, villages, verify=True, **kind):
        operator = self.platform.caller(agency, "operator")
        officer = self.platform.caller(agency, "field_officer")
        made = []
        for village in villages:
            household = self.households.make(village, **kind)
            household.record = operator.post("registry", "/households", body(household.rows))
            if verify:
                officer.post("registry", f"/households/{household.id}/verification", {"outcome": "verified"})
            made.append(household)
        self.say(f"  {agency.name}: {len(made)} households registered" + (" and verified" if verify else ""))
        return made

    def reached(self, caller, programme, count):
        """Once the distribution service, from the registry's events, sees the ``count`` households the
        programme's rule reaches (the demo knows each household's decile from the registry's answers)."""
        eventually(lambda: caller.post("distribution", f"/programmes/{programme['id']}/preview")["total"] == count,
                   what=f"the distribution service to know the households of {programme['name']}")

    def run_course(self, provider, course, people, absent=(), group=None):
        """Publish, enrol ``people`` ((person_ref, …) or a group's members), start, mark attendance, finish."""
        operator = self.platform.caller(provider, "operator")
        path = f"/courses/{course['id']}"
        operator.post("training", path + "/publish")
        if group:
            enrolments = eventually(lambda: operator.post("training", path + "/group-enrolments", {
                "group_id": group, "member_refs": list(people)})["enrolments"],
                what="the training service to know the group")
        else:
            enrolments = [eventually(lambda ref=ref: operator.post("training", path + "/enrolments",
                                                                   {"person_ref": ref}),
                                     what="the training service to know the participant") for ref in people]
        operator.post("training", path + "/start")
        marks = [{"mark_id": str(uuid.uuid4()), "session_id": s["id"], "enrolment_id": e["id"],
                  "present": e["person_ref"] not in absent, "recorded_at": s["ends_at"]}
                 for s in course["sessions"] for e in enrolments if e["status"] == "confirmed"]
        self.platform.caller(provider, "field_officer").post("training", path + "/attendance", {"marks": marks})
        return operator.post("training", path + "/finish")


def kalimantan_tengah(story):
    """Seed 000: the provincial secretary's sembako with the district in Barito Timur; the village of Pulau
    Patai's own food package the same month reaches those the province does not (the ledger tells it why)."""
    platform, say = story.platform, story.say
    say("Kalimantan Tengah: sembako 'Berbagi Berkah' in Barito Timur")
    province, village_admin = platform.caller(PROV_KALTENG, "admin"), platform.caller(DESA_PULAU_PATAI, "admin")
    villages = ["62.13.01.2003"] * 8 + ["62.13.01.2004"] * 5 + ["62.13.01.1012"] * 5 + ["62.13.02.2002"] * 6
    households = story.register(BARITO_TIMUR, villages)
    households += story.register(BARITO_TIMUR, ["62.13.01.2003"] * 2, poor=False)  # better off: the village's
    province.post("notifications", "/contacts", {"name": "Bidang Perlindungan dan Jaminan Sosial", "channel": "email",
                                                 "address": "linjamsos@dinsos.kalteng.go.id"})
    village_admin.post("notifications", "/contacts", {"name": "Sekretariat Desa Pulau Patai", "channel": "email",
                                                      "address": "pemdes@pulaupatai.desa.id"})
    warehouse = province.post("distribution", "/points", {"name": "Gudang Dinas Sosial, Tamiang Layang",
                                                          "kind": "warehouse", "village_code": "62.13.01.1012"})
    for item, unit, quantity, low in (("beras", "kg", "300", "50"), ("minyak goreng", "l", "60", "10"),
                                      ("gula pasir", "kg", "30", "5")):
        province.post("distribution", f"/points/{warehouse['id']}/moves", {
            "move": "received", "item": item, "unit": unit, "quantity": quantity, "low_threshold": low,
            "reference": "SPB/DINSOS-KT/2026/12/001"})
    sembako = province.post("distribution", "/programmes", {
        "name": MARKER, "funding_source": "apbd_province", "partners": [BARITO_TIMUR.name], "kind": "in_kind",
        "category": "food", "items": SEMBAKO_ITEMS, "period": PERIOD, "region_codes": ["62.13"],
        "rule": "household.decile <= 5 && household.verified", "quota": 30, "point_id": warehouse["id"]})
    story.reached(province, sembako, sum(h.record["decile"] <= 5 for h in households))
    activated = province.post("distribution", f"/programmes/{sembako['id']}/activate")
    say(f"  sembako: {activated['issued']} packages issued")

    dana_desa = village_admin.post("distribution", "/programmes", {
        "name": "Paket sembako Dana Desa Pulau Patai, Desember 2026", "funding_source": "village_funds",
        "kind": "in_kind", "category": "food", "items": [{"item": "beras", "quantity": "5", "unit": "kg"}],
        "period": PERIOD, "region_codes": ["62.13.01.2003"], "rule": "household.verified"})
    by_village = village_admin.post("distribution", f"/programmes/{dana_desa['id']}/activate")
    say(f"  Dana Desa Pulau Patai: {by_village['issued']} issued, {by_village['blocked']} blocked by the "
        "province's package (both offices are told by email)")

    officer = platform.caller(BARITO_TIMUR, "field_officer")
    issued = province.get("distribution", f"/programmes/{sembako['id']}/entitlements", status="issued",
                          per_page=500)["items"]
    heads = {h.id: h for h in households}
    delivered = 0
    for entitlement in issued[: (2 * len(issued)) // 3]:
        household = heads[entitlement["beneficiary_id"]]
        ref, nik = household.member("head")
        officer.post("distribution", f"/entitlements/{entitlement['id']}/delivery", {
            "idempotency_key": str(uuid.uuid5(uuid.NAMESPACE_URL, entitlement["id"])), "recipient_ref": ref,
            "nik": nik, "delivered_at": "2026-12-04T02:30:00+00:00", "village_code": household.village,
            "point_id": warehouse["id"]})
        delivered += 1
    say(f"  {delivered} packages handed over at the warehouse in Tamiang Layang")
    return {"households": households, "sembako": sembako, "dana_desa": dana_desa, "warehouse": warehouse,
            "delivered": delivered}


def balangan(story):
    """Seed 002: Balangan's National Social Solidarity Day: Rp48,000,000 of family-based ATENSI, sewing
    machines from the province to alumni of the youth social institution once they finish a sewing course,
    Rp20,000,000 to a KUBE."""
    platform, say = story.platform, story.say
    say("Balangan (Kalimantan Selatan): Hari Kesetiakawanan Sosial Nasional")
    district, province = platform.caller(BALANGAN, "admin"), platform.caller(PROV_KALSEL, "admin")
    households = story.register(BALANGAN, ["63.11.06.1023"] * 6 + ["63.11.01.2001"] * 6)
    alumni = story.register(BALANGAN, ["63.11.06.2005"] * 3 + ["63.11.01.2003"], young_adult=True)
    district.post("notifications", "/contacts", {"name": "Bidang Rehabilitasi Sosial", "channel": "email",
                                                 "address": "rehsos@dinsos.balangankab.go.id"})
    atensi = district.post("distribution", "/programmes", {
        "name": "ATENSI berbasis keluarga (Ditjen Rehabilitasi Sosial), Balangan 2026", "funding_source": "apbn",
        "kind": "cash", "category": "social_rehabilitation", "cash": {"basis": "split_total", "amount": 48_000_000},
        "period": PERIOD, "region_codes": ["63.11"], "rule": "household.decile <= 4 && household.verified",
        "quota": 12})
    story.reached(district, atensi, sum(h.record["decile"] <= 4 for h in households + alumni))
    shared = district.post("distribution", f"/programmes/{atensi['id']}/activate")
    say(f"  ATENSI: {shared['issued']} families share Rp48.000.000")

    machines = province.post("distribution", "/programmes", {
        "name": "Mesin jahit bagi alumni Panti Sosial Bina Remaja", "funding_source": "apbd_province",
        "partners": [BALANGAN.name], "kind": "equipment", "category": "productive_assets",
        "items": [{"item": "mesin jahit", "quantity": "1", "unit": "unit"}], "period": PERIOD,
        "region_codes": ["63.11"], "rule": '"sewing" in household.completed_skills && household.verified'})
    province.post("distribution", f"/programmes/{machines['id']}/activate")
    course = province.post("training", "/courses", {
        "title": "Pelatihan menjahit bagi alumni Panti Sosial Bina Remaja", "partners": [BALANGAN.name],
        "skill_area": "sewing", "mode": "individual", "region_codes": ["63.11"], "capacity": 10,
        "eligibility": {"min_age": 16, "verified_only": True},
        "completion": {"min_attendance_share": 0.75, "assessment_required": False},
        "sessions": sessions((16, 17, 18, 19), "63.11.06.1023"), "funding_source": "APBD Provinsi Kalimantan Selatan"})
    participants = [h.member("child", min_age=18, today=story.households.today)[0] for h in alumni]
    result = story.run_course(PROV_KALSEL, course, participants, absent={participants[-1]})
    say(f"  sewing course: {result['completed']} of {len(participants)} completed; sewing machines follow")

    kube = district.post("registry", "/groups", {
        "name": "KUBE Sanggam Jaya", "kind": "kube", "village_code": "63.11.06.1023",
        "member_refs": [h.member("head")[0] for h in households[:5]]})
    grant = district.post("distribution", "/programmes", {
        "name": "Bantuan usaha KUBE Sanggam Jaya (HKSN 2026)", "funding_source": "apbd_district",
        "kind": "group_grant", "category": "productive_assets", "group_kind": "kube", "group_ids": [kube["id"]],
        "cash": {"basis": "per_beneficiary", "amount": 20_000_000}, "period": PERIOD, "region_codes": ["63.11"],
        "rule": "true"})
    eventually(lambda: district.post("distribution", f"/programmes/{grant['id']}/preview")["total"] == 1,
               what="the distribution service to know the KUBE")
    district.post("distribution", f"/programmes/{grant['id']}/activate")
    say("  KUBE Sanggam Jaya: Rp20.000.000")
    return {"households": households, "alumni": alumni, "atensi": atensi, "machines": machines, "course": course,
            "kube": kube, "grant": grant, "completed": result["completed"]}


def kalimantan_utara(story):
    """Seed 003: the province's capacity building for Karang Taruna; trained members then help their village
    update its poverty data."""
    platform, say = story.platform, story.say
    say("Kalimantan Utara: capacity building for Karang Taruna")
    province = platform.caller(PROV_KALTARA, "admin")
    gunung_putih = story.register(PROV_KALTARA, ["65.01.01.2005"] * 4, young_adult=True)
    tanjung_selor = story.register(PROV_KALTARA, ["65.01.05.1001"] * 3, young_adult=True)
    groups = []
    for name, village, houses in (("Karang Taruna Tunas Harapan", "65.01.01.2005", gunung_putih),
                                  ("Karang Taruna Bina Bersama", "65.01.05.1001", tanjung_selor)):
        youth = [h.member("child", min_age=18, today=story.households.today)[0] for h in houses]
        groups.append((province.post("registry", "/groups", {"name": f"{name} {village}", "kind": "karang_taruna",
                                                             "village_code": village, "member_refs": youth}), youth))
    course = province.post("training", "/courses", {
        "title": "Peningkatan kapasitas kelembagaan Karang Taruna se-Kalimantan Utara", "skill_area":
        "organisational_capacity", "mode": "group", "region_codes": ["65"], "capacity": 40,
        "eligibility": {"group_kind": "karang_taruna"},
        "completion": {"min_attendance_share": 0.5, "assessment_required": False},
        "sessions": sessions((10, 11), "65.01.05.1001"), "funding_source": "APBD Provinsi Kalimantan Utara"})
    operator = platform.caller(PROV_KALTARA, "operator")
    operator.post("training", f"/courses/{course['id']}/publish")
    enrolments = []
    for group, youth in groups:
        enrolments += eventually(lambda g=group, y=youth: operator.post(
            "training", f"/courses/{course['id']}/group-enrolments", {"group_id": g["id"], "member_refs": y}
        )["enrolments"], what="the training service to know the Karang Taruna")
    operator.post("training", f"/courses/{course['id']}/start")
    marks = [{"mark_id": str(uuid.uuid4()), "session_id": s["id"], "enrolment_id": e["id"], "present": True,
              "recorded_at": s["ends_at"]} for s in course["sessions"] for e in enrolments]
    platform.caller(PROV_KALTARA, "field_officer").post("training", f"/courses/{course['id']}/attendance",
                                                        {"marks": marks})
    finished = operator.post("training", f"/courses/{course['id']}/finish")
    say(f"  {finished['completed']} members of {len(groups)} Karang Taruna completed the course")

    surveyor = platform.caller(DESA_GUNUNG_PUTIH, "field_officer")
    updated = []
    for household in gunung_putih[:3]:  # the village's poverty data, brought up to date with the Karang Taruna
        before = household.record["decile"]
        after = surveyor.call("PUT", "registry", f"/households/{household.id}/indicators", {
            **body(household.rows)["indicators"], "monthly_income": 3_500_000, "floor": "cement", "wall": "brick",
            "roof": "tile", "electricity": "pln_900", "water": "piped", "sanitation": "private"})["decile"]
        surveyor.post("registry", f"/households/{household.id}/verification", {"outcome": "verified"})
        updated.append((household.id, before, after))
    say(f"  Gunung Putih updated {len(updated)} households' poverty data: deciles "
        + ", ".join(f"{b}→{a}" for _, b, a in updated))
    return {"households": gunung_putih + tanjung_selor, "course": course, "completed": finished["completed"],
            "updated": updated}


def kutai_kartanegara(story):
    """Seed 004: Kutai Kartanegara's empowerment training, run per sub-district."""
    platform, say = story.platform, story.say
    say("Kutai Kartanegara: empowerment training per sub-district")
    district = platform.caller(KUKAR, "admin")
    places = {"64.02.06": "64.02.06.1001", "64.02.02": "64.02.02.2003", "64.02.05": "64.02.05.2001"}
    completed = 0
    first = None
    for number, (sub_district, village) in enumerate(places.items()):
        households = story.register(KUKAR, [village] * 4, young_adult=True)
        shape = {"region_codes": [sub_district], "sessions": sessions((3 + 7 * number, 4 + 7 * number), village)}
        if first is None:
            course = first = district.post("training", "/courses", {
                "title": "Pemberdayaan sosial: kewirausahaan bagi LKS, Karang Taruna dan KUBE",
                "skill_area": "entrepreneurship", "mode": "individual", "capacity": 25,
                "eligibility": {"min_age": 17, "verified_only": True},
                "completion": {"min_attendance_share": 0.5, "assessment_required": False},
                "funding_source": "APBD Kabupaten Kutai Kartanegara 2026", **shape})
        else:
            course = district.post("training", f"/courses/{first['id']}/runs", shape)
        people = [h.member("head")[0] for h in households] + [h.member("child", 18, story.households.today)[0]
                                                              for h in households[:2]]
        completed += story.run_course(KUKAR, course, people)["completed"]
    say(f"  {completed} participants completed in {len(places)} sub-districts")
    report = district.get("training", "/reports/participation", by="region", level="district", region="64.02")
    return {"completed": completed, "series": first["id"], "report": report}


def leksono(story):
    """Seed 001: a company's CSR skills training with local businesses in Kecamatan Leksono: farming, crafts, IT."""
    platform, say = story.platform, story.say
    say("Leksono (Wonosobo): a company's CSR skills training")
    households = story.register(WONOSOBO, ["33.07.05.2001"] * 5 + ["33.07.05.2002"] * 4, young_adult=True)
    company = platform.caller(CSR, "admin")
    partners = {"farming": "Kelompok Tani Sido Makmur", "crafts": "Sanggar Kerajinan Bambu Leksono",
                "it": "Koperasi Digital Wonosobo"}
    completed = 0
    for number, (skill, partner) in enumerate(partners.items()):
        course = company.post("training", "/courses", {
            "title": {"farming": "Budidaya kentang dan kopi", "crafts": "Kerajinan anyaman bambu",
                      "it": "Pemasaran digital untuk UMKM"}[skill] + " (CSR)", "partners": [partner],
            "skill_area": skill, "mode": "individual", "region_codes": ["33.07.05"], "capacity": 15,
            "eligibility": {"min_age": 17}, "completion": {"min_attendance_share": 0.5, "assessment_required": False},
            "sessions": sessions((20 + number,), "33.07.05.2001"), "funding_source": "CSR PT Sumber Rejeki"})
        people = [h.member("child", 18, story.households.today)[0] for h in households[number::3]]
        completed += story.run_course(CSR, course, people)["completed"]
    say(f"  {completed} young people completed farming, crafts and IT courses")
    return {"households": households, "completed": completed}


STORIES = (kalimantan_tengah, balangan, kalimantan_utara, kutai_kartanegara, leksono)


def load(platform, say=print, seed=2026, today=None):
    """Play every story; what each made, by name."""
    story = Story(platform, Households(seed, today or date.today()), say)
    return {play.__name__: play(story) for play in STORIES}


def loaded(platform):
    """Whether the demo was loaded before (its first programme exists)."""
    province = platform.caller(PROV_KALTENG, "admin")
    return any(p["name"] == MARKER for p in province.get("distribution", "/programmes", per_page=200)["items"])
