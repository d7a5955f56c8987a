"""Domain errors become the problem documents the kit promises."""
import json

from setiakawan_kit import errors


def document(error):
    response = errors.problem(error).response()
    return response.status_code, response.content_type, json.loads(response.get_data())


def test_each_domain_error_answers_its_status_and_kind():
    for error, status, kind in ((errors.NotFound("No course 1."), 404, "not-found"),
                                (errors.OutOfScope("Not yours."), 403, "forbidden"),
                                (errors.Conflict("Finished.", course_status="finished"), 409, "conflict"),
                                (errors.RuleBroken("Too old.", field="person_ref"), 422, "rule-violated")):
        code, content_type, body = document(error)
        assert (code, body["status"]) == (status, status)
        assert content_type == "application/problem+json"
        assert body["type"] == f"urn:setiakawan:problem:{kind}" and body["detail"] == str(error)
    assert document(errors.Conflict("Finished.", course_status="finished"))[2]["course_status"] == "finished"


def test_a_broken_rule_names_its_fields():
    one = document(errors.RuleBroken("Too old.", field="person_ref"))[2]
    assert one["errors"] == [{"field": "person_ref", "message": "Too old."}]
    many = document(errors.RuleBroken("Two.", errors=[{"field": "a", "message": "x"}, {"field": "b", "message": "y"}]))[2]
    assert [e["field"] for e in many["errors"]] == ["a", "b"]
    assert "errors" not in document(errors.RuleBroken("No field."))[2]
