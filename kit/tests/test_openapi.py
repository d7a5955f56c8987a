"""What a service's OpenAPI document says follows from its @api declarations alone."""
import json
import uuid

import pytest
from marshmallow import Schema, fields

from setiakawan_kit import openapi
from setiakawan_kit.http import ApiEntrypoint


class Thing(Schema):
    id = fields.UUID()
    note = fields.String(allow_none=True)


class ThingIn(Schema):
    note = fields.String(required=True)


class Page(Schema):
    page = fields.Integer()


def document(*entrypoints):
    for name, ep in entrypoints:
        ep.method_name = name
    return openapi.build("test", [ep for _, ep in entrypoints])


def responses(doc, path, method):
    return doc["paths"][path][method]["responses"]


PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_every_status_that_follows_from_the_declaration_is_a_documented_problem():
    doc = document(
        ("change", ApiEntrypoint("PUT", "/things/<uuid:thing_id>", body=ThingIn, response=Thing, roles=("admin",),
                                 problems={409: "Changed meanwhile"})),
        ("search", ApiEntrypoint("GET", "/things", query=Page, response=[Thing], roles=("admin",))),
        ("health", ApiEntrypoint("GET", "/health", public=True, response=Thing, answers={503: "Down"})),
    )
    change = responses(doc, "/things/{thing_id}", "put")
    assert set(change) == {"200", "400", "401", "403", "404", "409", "413", "415", "422", "503"}
    assert all(change[status]["content"] == PROBLEM for status in change if status != "200")
    assert change["200"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
    assert doc["paths"]["/things/{thing_id}"]["put"]["parameters"] == [
        {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    # a list answer is an array; no path parameter, no body: no 404, 400, 413 or 415
    search = responses(doc, "/things", "get")
    assert set(search) == {"200", "401", "403", "422", "503"}
    assert search["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    # public: no token problems; another status with the same body
    health = responses(doc, "/health", "get")
    assert set(health) == {"200", "422", "503"}
    assert health["503"]["content"] == health["200"]["content"]


def test_media_types_of_bodies_and_answers_are_declared_ones():
    doc = document(
        ("upload", ApiEntrypoint("POST", "/lists", body="text/csv", response=Thing, status=202, roles=("admin",),
                                 problems={411: "No Content-Length"})),
        ("rows", ApiEntrypoint("GET", "/lists/<int:list_id>/rows", content_type="text/csv", roles=("admin",))),
    )
    upload = doc["paths"]["/lists"]["post"]
    assert upload["requestBody"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert {"202", "411", "413", "415"} <= set(upload["responses"]) and "400" not in upload["responses"]
    rows = doc["paths"]["/lists/{list_id}/rows"]["get"]
    assert rows["responses"]["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert rows["parameters"][0]["schema"] == {"type": "integer"}


class Purpose(Schema):
    purpose = fields.String(data_key="X-Purpose", load_default=None)


def test_declared_request_headers_are_parameters_and_a_reason_for_422():
    doc = document(("read", ApiEntrypoint("GET", "/things/<thing_id>", headers=Purpose, roles=("admin",))))
    read = doc["paths"]["/things/{thing_id}"]["get"]
    assert [(p["in"], p["name"]) for p in read["parameters"]] == [("path", "thing_id"), ("header", "X-Purpose")]
    assert read["responses"]["422"]["description"] == "Validation failed: the headers"


def test_the_problem_schema_allows_extension_members():
    assert openapi.PROBLEM["additionalProperties"] is True
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(openapi.PROBLEM["properties"])


def test_an_answer_is_dumped_as_declared_and_a_list_where_one_object_is_declared_is_an_error():
    listing = ApiEntrypoint("GET", "/things", response=[Thing])
    answer = listing.response_from_result([{"id": uuid.UUID(int=1), "note": None, "secret": "x"}])
    assert answer.mimetype == "application/json"
    assert json.loads(answer.get_data()) == [{"id": str(uuid.UUID(int=1)), "note": None}]
    with pytest.raises(TypeError):
        listing.response_from_result({"id": uuid.UUID(int=1)})
    with pytest.raises(TypeError):
        ApiEntrypoint("GET", "/things/<id>", response=Thing).response_from_result([])
    rows = ApiEntrypoint("GET", "/rows", content_type="text/csv").response_from_result((200, {"X-A": "1"}, "a,b\n"))
    assert rows.headers["Content-Type"] == "text/csv; charset=utf-8" and rows.get_data() == b"a,b\n"
