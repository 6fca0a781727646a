"""The OpenAPI 3.0 description of the work-order API, served at ``/openapi.json``.

Why written out rather than generated: it is the contract field apps and the
utility's ticketing system code against, and schemathesis checks the server
against it; writing it by hand keeps every limit (lengths, enums, ranges)
deliberate, and the server validates requests by the same limits.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..vocabulary.findings import SEVERITIES
from .access import ROLES
from .model import CLOSE_FINDINGS, STATUSES, WORK_STATES

MAX_NAME = 200
MAX_FILTER = 100  # five such filters, percent-encoded, stay under an 8 KiB request line
MAX_TEXT = 4000
MAX_LIMIT = 1000
MAX_EPOCH = 1e11
MAX_SILENCE_S = 366 * 86400


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(ref: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _text(max_length: int = MAX_TEXT, min_length: int = 0) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "minLength": min_length}


ALERT_ID = {"name": "alert_id", "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME}}
COMMON_ERRORS = {"400": _error("Invalid request"), "401": _error("Missing or unknown token"),
                 "403": _error("Not allowed for this role or team")}
WORK_ERRORS = {**COMMON_ERRORS, "404": _error("No such work order (or not visible)"),
               "409": _error("Not possible in the work order's current state")}


def _action(summary: str, body: dict[str, Any] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "parameters": [ALERT_ID],
                                 "responses": {"200": _json("Alert"), **WORK_ERRORS}}
    if body is not None:
        operation["requestBody"] = body
    return {"post": operation}


def _filter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def openapi_spec() -> dict[str, Any]:
    """The API description; `gridwatch alerts openapi` prints it."""
    nullable_number = {"type": "number", "nullable": True}
    alert_schema = {
        "type": "object",
        "required": ["id", "kind", "severity", "entity", "entity_type", "area", "feeder",
                     "started_at", "last_seen", "status", "work_state"],
        "properties": {
            "id": {"type": "string"}, "kind": {"type": "string"},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "entity": {"type": "string"}, "entity_type": {"type": "string"},
            "area": {"type": "string"}, "feeder": {"type": "string"},
            "started_at": {"type": "number"}, "last_seen": {"type": "number"},
            "ended_at": nullable_number,
            "status": {"type": "string", "enum": list(STATUSES)},
            "detector": {"type": "string"}, "score": {"type": "number"},
            "reason": {"type": "string"}, "observed": {"type": "object"},
            "threshold": {"type": "object"}, "evidence": {"type": "object"},
            "estimated_loss_kwh_per_day": nullable_number, "received_at": {"type": "number"},
            "work_state": {"type": "string", "enum": list(WORK_STATES)},
            "team": {"type": "string"}, "assignee": {"type": "string"},
            "finding": {"type": "string"}, "closed_at": nullable_number,
        },
    }
    silence_schema = {
        "type": "object", "required": ["id", "matchers", "starts_at", "ends_at", "author",
                                       "comment"],
        "properties": {"id": {"type": "string"},
                       "matchers": {"type": "array", "items": {"type": "string"}},
                       "starts_at": {"type": "number"}, "ends_at": {"type": "number"},
                       "author": {"type": "string"}, "comment": {"type": "string"},
                       "created_at": {"type": "number"}},
    }
    audit_schema = {"type": "object", "required": ["alert_id", "at", "actor", "action"],
                    "properties": {"alert_id": {"type": "string"}, "at": {"type": "number"},
                                   "actor": {"type": "string"}, "action": {"type": "string"},
                                   "details": {"type": "object"}}}
    time_value = {"type": "number", "minimum": 0, "maximum": MAX_EPOCH}
    return {
        "openapi": "3.0.3",
        "info": {"title": "GridWatch work orders", "version": __version__,
                 "description": "Alerts as work orders for inspection teams and the control "
                                "room. Authenticate with `Authorization: Bearer <token>`; "
                                f"roles: {', '.join(ROLES)}. Inspectors see only their "
                                "team's work orders."},
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {"summary": "Liveness", "security": [],
                                 "responses": {"200": _json("Health")}}},
            "/api/v1/whoami": {"get": {"summary": "The token's identity",
                                       "responses": {"200": _json("Actor"), **COMMON_ERRORS}}},
            "/api/v1/alerts": {"get": {
                "summary": "List and filter alerts, newest first",
                "parameters": [
                    _filter("status", {"type": "string", "enum": list(STATUSES)}),
                    _filter("work_state", {"type": "string", "enum": list(WORK_STATES)}),
                    _filter("severity", {"type": "string", "enum": list(SEVERITIES)}),
                    *(_filter(n, _text(MAX_FILTER)) for n in ("kind", "area", "feeder", "team",
                                                             "assignee")),
                    _filter("started_since", {"type": "number", "minimum": 0,
                                              "maximum": MAX_EPOCH}),
                    _filter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                    _filter("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}),
                ],
                "responses": {"200": _json("AlertList"), **COMMON_ERRORS}}},
            "/api/v1/alerts/{alert_id}": {"get": {
                "summary": "One alert with its work order", "parameters": [ALERT_ID],
                "responses": {"200": _json("Alert"), **WORK_ERRORS}}},
            "/api/v1/alerts/{alert_id}/audit": {"get": {
                "summary": "Every change to the work order: who, what, when",
                "parameters": [ALERT_ID],
                "responses": {"200": _json("AuditTrail"), **WORK_ERRORS}}},
            "/api/v1/alerts/{alert_id}/ack": _action(
                "Acknowledge", _body({"note": _text()}, [])),
            "/api/v1/alerts/{alert_id}/assign": _action(
                "Assign to a person (operators may also move it to another team)",
                _body({"assignee": _text(MAX_NAME, 1), "team": _text(MAX_NAME)}, ["assignee"])),
            "/api/v1/alerts/{alert_id}/start": _action("Mark work in progress", None),
            "/api/v1/alerts/{alert_id}/comment": _action(
                "Add a comment", _body({"text": _text(MAX_TEXT, 1)}, ["text"])),
            "/api/v1/alerts/{alert_id}/close": _action(
                "Close with a finding",
                _body({"finding": {"type": "string", "enum": list(CLOSE_FINDINGS)},
                       "note": _text()}, ["finding"])),
            "/api/v1/alerts/{alert_id}/reopen": _action(
                "Reopen a closed work order", _body({"reason": _text(MAX_TEXT, 1)},
                                                    ["reason"])),
            "/api/v1/silences": {
                "get": {"summary": "Active and future silences",
                        "responses": {"200": _json("SilenceList"), **COMMON_ERRORS}},
                "post": {"summary": "Create a silence (author = the token's name)",
                         "requestBody": _body({
                             "matchers": {"type": "array", "minItems": 1, "maxItems": 20,
                                          "items": _text(MAX_NAME, 1)},
                             "starts_at": time_value, "ends_at": time_value,
                             "duration_s": {"type": "number", "exclusiveMinimum": True,
                                            "minimum": 0, "maximum": MAX_SILENCE_S},
                             "comment": _text(MAX_TEXT, 1)}, ["matchers", "comment"]),
                         "responses": {"201": _json("Silence", "Created"), **COMMON_ERRORS}}},
            "/api/v1/silences/{silence_id}": {"delete": {
                "summary": "Expire a silence now",
                "parameters": [{"name": "silence_id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1,
                                           "maxLength": MAX_NAME}}],
                "responses": {"200": _json("Silence"), **COMMON_ERRORS,
                              "404": _error("No such active silence")}}},
            "/api/v1/labels": {"get": {
                "summary": "Closed findings: confirmed/repaired as labels for "
                           "`gridwatch evaluate` (json), or every closed order (csv)",
                "parameters": [_filter("format", {"type": "string", "enum": ["json", "csv"]}),
                               _filter("since", time_value)],
                "responses": {"200": {"description": "Labels", "content": {
                    "application/json": {"schema": {"type": "array",
                                                    "items": {"type": "object"}}},
                    "text/csv": {"schema": {"type": "string"}}}}, **COMMON_ERRORS}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
                "Actor": {"type": "object", "required": ["name", "role", "team"],
                          "properties": {"name": {"type": "string"},
                                         "role": {"type": "string", "enum": list(ROLES)},
                                         "team": {"type": "string"}}},
                "Alert": alert_schema,
                "AlertList": {"type": "object", "required": ["alerts", "count"],
                              "properties": {"alerts": {"type": "array",
                                                        "items": {"$ref":
                                                                  "#/components/schemas/Alert"}},
                                             "count": {"type": "integer"}}},
                "AuditEntry": audit_schema,
                "AuditTrail": {"type": "object", "required": ["audit"],
                               "properties": {"audit": {"type": "array", "items": {
                                   "$ref": "#/components/schemas/AuditEntry"}}}},
                "Silence": silence_schema,
                "SilenceList": {"type": "object", "required": ["silences"],
                                "properties": {"silences": {"type": "array", "items": {
                                    "$ref": "#/components/schemas/Silence"}}}},
            },
        },
    }
