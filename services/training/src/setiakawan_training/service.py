"""The training service's nameko entrypoints: thin translations from HTTP
and the registry's events to the use cases."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from setiakawan_kit.consumer import handles
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import api
from setiakawan_kit.service import KitService

from . import attendance, certificates, completion, courses, enrolments, people, reports, schemas
from .rules.access import MANAGE_ROLES as MANAGE, WRITE_ROLES as WRITE

ANY = ("admin", "operator", "field_officer", "viewer")

STATE = "The course's state does not allow this (its status is in course_status)"
RULE = "A rule refuses it (the errors say which)"
PROVIDER = "Only the course's provider (admin or operator) may do this"
HOUSEHOLD_EVENTS = ("household.registered", "household.updated", "household.verified", "household.rejected",
                    "household.status_changed", "member.added", "member.removed", "household.merged")


class TimeZone(DependencyProvider):
    """Where the agencies are (``TIME_ZONE``, e.g. Asia/Makassar for WITA):
    the day a course finished and a certificate's dates are that zone's."""

    def setup(self):
        self.zone = self.container.config.get("TIME_ZONE") or "Asia/Jakarta"
        try:
            ZoneInfo(self.zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise RuntimeError(f"TIME_ZONE {self.zone!r} is not a time zone (like Asia/Makassar)") from None

    def get_dependency(self, worker_ctx):
        return self.zone


class VerifyAddress(DependencyProvider):
    """Where anyone checks a certificate code: ``VERIFY_BASE_URL`` (the
    service's public address) + ``/certificates/<code>``."""

    def setup(self):
        config = self.container.config
        base = config.get("VERIFY_BASE_URL") or f"http://{config.get('WEB_SERVER_ADDRESS', '127.0.0.1:8003')}"
        self.base = base.rstrip("/")

    def get_dependency(self, worker_ctx):
        return lambda code: f"{self.base}/certificates/{code}"


def _household_handler(event_type):
    @handles("registry", event_type, name=event_type.replace(".", "_"))
    def handler(self, uow, event):
        people.apply_household(uow, event)

    handler.__name__ = f"on_{event_type.replace('.', '_')}"
    return handler


class TrainingService(DiagnosticsMixin, KitService):
    """Skills courses (pelatihan), enrolment with waitlists, attendance from
    the field, completion and certificates anyone can check."""

    name = "training"
    description = __doc__
    verify_url = VerifyAddress()
    time_zone = TimeZone()

    # -- courses -----------------------------------------------------------
    @api("POST", "/courses", body=schemas.CourseIn, response=schemas.CourseOut, roles=MANAGE, status=201,
         problems={422: RULE}, tags=["courses"], summary="Create a course (a draft) with its sessions")
    def create_course(self, call):
        with self.db.transaction() as uow:
            return 201, courses.create(uow, call.identity, call.body)

    @api("POST", "/courses/<uuid:course_id>/runs", body=schemas.RunIn, response=schemas.CourseOut, roles=MANAGE,
         status=201, problems={422: RULE}, tags=["courses"],
         summary="Run the same course elsewhere: a new draft in its series, with its own regions and sessions")
    def run_course_again(self, call, course_id):
        with self.db.transaction() as uow:
            return 201, courses.run_again(uow, call.identity, course_id, call.body)

    @api("GET", "/courses", query=schemas.CourseQuery, response=schemas.CoursePage, roles=ANY, tags=["courses"],
         summary="Courses the caller may see, newest first")
    def list_courses(self, call):
        with self.db.transaction() as uow:
            return courses.search(uow, call.identity, call.query)

    @api("GET", "/courses/<uuid:course_id>", response=schemas.CourseOut, roles=ANY, tags=["courses"])
    def get_course(self, call, course_id):
        with self.db.transaction() as uow:
            return courses.read(uow, call.identity, course_id)

    @api("PUT", "/courses/<uuid:course_id>", body=schemas.CourseIn, response=schemas.CourseOut, roles=MANAGE,
         problems={409: STATE, 422: RULE}, tags=["courses"], summary="Replace a draft course")
    def edit_course(self, call, course_id):
        with self.db.transaction() as uow:
            return courses.edit(uow, call.identity, course_id, call.body)

    @api("POST", "/courses/<uuid:course_id>/publish", response=schemas.CourseOut, roles=MANAGE,
         problems={409: STATE, 422: RULE}, tags=["courses"], summary="Open a draft for enrolment")
    def publish_course(self, call, course_id):
        with self.db.transaction() as uow:
            return courses.publish(uow, call.identity, course_id)

    @api("POST", "/courses/<uuid:course_id>/start", response=schemas.CourseOut, roles=MANAGE,
         problems={409: STATE}, tags=["courses"], summary="Start an open course: enrolment closes")
    def start_course(self, call, course_id):
        with self.db.transaction() as uow:
            return courses.start(uow, call.identity, course_id)

    @api("POST", "/courses/<uuid:course_id>/cancel", body=schemas.CancelIn, response=schemas.CourseOut,
         roles=MANAGE, problems={409: STATE}, tags=["courses"],
         summary="Cancel a course and every enrolment in it")
    def cancel_course(self, call, course_id):
        with self.db.transaction() as uow:
            return courses.cancel(uow, call.identity, course_id, call.body["reason"])

    @api("POST", "/courses/<uuid:course_id>/finish", response=schemas.FinishOut, roles=MANAGE,
         problems={409: STATE}, tags=["courses"],
         summary="Finish a running course: each participant completes or not, once")
    def finish_course(self, call, course_id):
        with self.db.transaction() as uow:
            return completion.finish(uow, call.identity, course_id, self.time_zone)

    # -- enrolment ---------------------------------------------------------
    @api("POST", "/courses/<uuid:course_id>/enrolments", body=schemas.EnrolIn, response=schemas.EnrolmentOut,
         roles=WRITE, status=201, problems={409: "Enrolled already, or the course is not open", 422: RULE},
         tags=["enrolment"], summary="Enrol a person: a seat if one is free, else the waitlist")
    def enrol(self, call, course_id):
        with self.db.transaction() as uow:
            return 201, enrolments.enrol(uow, call.identity, course_id, call.body["person_ref"])

    @api("POST", "/courses/<uuid:course_id>/group-enrolments", body=schemas.GroupEnrolIn,
         response=schemas.GroupEnrolmentOut, roles=WRITE, status=201,
         problems={409: "A member is enrolled already, or the course is not open", 422: RULE},
         tags=["enrolment"], summary="Enrol a community group with the members it sends")
    def enrol_group(self, call, course_id):
        with self.db.transaction() as uow:
            rows = enrolments.enrol_group(uow, call.identity, course_id, call.body["group_id"],
                                          call.body["member_refs"])
        return 201, {"group_id": call.body["group_id"], "enrolments": rows}

    @api("GET", "/courses/<uuid:course_id>/enrolments", query=schemas.EnrolmentQuery,
         response=schemas.EnrolmentPage, roles=ANY, tags=["enrolment"],
         summary="A course's enrolments the caller may see, in arrival order")
    def list_enrolments(self, call, course_id):
        with self.db.transaction() as uow:
            return enrolments.in_course(uow, call.identity, course_id, call.query)

    @api("GET", "/enrolments/<uuid:enrolment_id>", response=schemas.EnrolmentOut, roles=ANY, tags=["enrolment"])
    def get_enrolment(self, call, enrolment_id):
        with self.db.transaction() as uow:
            return enrolments.read(uow, call.identity, enrolment_id)

    @api("POST", "/enrolments/<uuid:enrolment_id>/withdraw", response=schemas.WithdrawalOut, roles=WRITE,
         problems={409: "Ended already, or the course is over"}, tags=["enrolment"],
         summary="Give up a seat or a waitlist place; the seat goes to the waitlist")
    def withdraw(self, call, enrolment_id):
        with self.db.transaction() as uow:
            return enrolments.withdraw(uow, call.identity, enrolment_id)

    # -- attendance and results -------------------------------------------
    @api("POST", "/courses/<uuid:course_id>/attendance", body=schemas.SheetIn, response=schemas.SheetOut,
         roles=WRITE, problems={409: "The course is not running, or a mark id was used for another mark",
                                422: RULE},
         tags=["attendance"], summary="Record an attendance sheet (marks made offline are sent later)")
    def record_attendance(self, call, course_id):
        with self.db.transaction() as uow:
            return attendance.record_sheet(uow, call.identity, course_id, call.body["marks"])

    @api("GET", "/courses/<uuid:course_id>/attendance", query=schemas.AttendanceQuery,
         response=schemas.AttendanceOut, roles=ANY, tags=["attendance"],
         summary="Each participant's current mark per session, or every mark with history=true")
    def get_attendance(self, call, course_id):
        with self.db.transaction() as uow:
            return attendance.sheet(uow, call.identity, course_id, call.query["history"])

    @api("PUT", "/courses/<uuid:course_id>/assessments", body=schemas.AssessmentsIn,
         response=schemas.AssessmentsOut, roles=WRITE, problems={409: STATE, 422: RULE}, tags=["attendance"],
         summary="Record who passed the course's assessment")
    def record_assessments(self, call, course_id):
        with self.db.transaction() as uow:
            return completion.record_assessments(uow, call.identity, course_id, call.body["results"])

    # -- certificates --------------------------------------------------------
    @api("GET", "/certificates/<code>", public=True, response=schemas.CertificateOut, tags=["certificates"],
         summary="Check a certificate code: the course, provider and date, nothing about the person")
    def verify_certificate(self, call, code):
        with self.db.transaction() as uow:
            return certificates.verify(uow, code, self.time_zone)

    @api("GET", "/certificates/<code>/pdf", roles=ANY, content_type="application/pdf", tags=["certificates"],
         summary="The printable certificate with its code and a QR code of the verification address")
    def certificate_pdf(self, call, code):
        with self.db.transaction() as uow:
            return certificates.pdf(uow, call.identity, code, self.verify_url, self.time_zone)

    # -- reports ------------------------------------------------------------
    @api("GET", "/reports/participation", query=schemas.ReportQuery, response=schemas.ReportOut, roles=ANY,
         tags=["reports"], summary="Enrolled, attendance and completed by course, provider or region")
    def participation_report(self, call):
        with self.db.transaction() as uow:
            return reports.participation(uow, call.identity, call.query)

    @api("GET", "/reports/participation.csv", query=schemas.ReportQuery, roles=ANY, content_type="text/csv",
         tags=["reports"], summary="The participation report as CSV")
    def participation_report_csv(self, call):
        with self.db.transaction() as uow:
            report = reports.participation(uow, call.identity, call.query)
        return Response(reports.as_csv(report), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="training-by-{report["by"]}.csv"'})

    # -- the registry's events (the read model) ------------------------------
    on_household_registered = _household_handler("household.registered")
    on_household_updated = _household_handler("household.updated")
    on_household_verified = _household_handler("household.verified")
    on_household_rejected = _household_handler("household.rejected")
    on_household_status_changed = _household_handler("household.status_changed")
    on_member_added = _household_handler("member.added")
    on_member_removed = _household_handler("member.removed")
    on_household_merged = _household_handler("household.merged")

    @handles("registry", "group.registered", name="group_registered")
    def on_group_registered(self, uow, event):
        people.apply_group(uow, event)

    @handles("registry", "group.updated", name="group_updated")
    def on_group_updated(self, uow, event):
        people.apply_group(uow, event)
