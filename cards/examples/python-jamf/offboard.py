"""Offboarding step for the Macs a leaver had: find them in JAMF Pro, then lock
(or erase) each one through JAMF's MDM command API.

This module is the card's logic and knows nothing of WebAssembly: it talks to
the world through the `send` and `log` callables it is given, so that it runs
(and is tested) under plain CPython too. `app.py` binds it to the card
contract's `http` and `log` imports.

It must not read files, the environment or the clock, and must not hold any
credential: the host injects the JAMF credentials of the named connection.
"""

import json
import re
import secrets
from urllib.parse import quote

NAME = "acme.jamf-offboard"
VERSION = "1.0.0"
DESCRIPTION = (
    "Find the computers JAMF Pro has for a leaver (by email) and send each an MDM "
    "lock or erase command, through the JAMF connection the flow names."
)

# Limits: a leaver with more machines than this is a data problem worth a look,
# not something to page through for minutes.
PAGE_SIZE = 100
MAX_PAGES = 10
MAX_EMAIL = 320
HTTP_TIMEOUT_MS = 15_000

ACTIONS = {
    # action -> JAMF commandType (None: only report the devices)
    "lock": "DEVICE_LOCK",
    "erase": "ERASE_DEVICE",
    "report": None,
}

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "jamf-offboard input",
    "type": "object",
    "required": ["user", "connection"],
    "properties": {
        "user": {
            "description": "The leaver: an Okta user, or just its id and email.",
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "login": {"type": "string"},
                "email": {"type": "string", "format": "email", "maxLength": MAX_EMAIL},
                "profile": {
                    "type": "object",
                    "properties": {"email": {"type": "string", "format": "email"}},
                },
            },
        },
        "connection": {
            "description": "The JAMF Pro connection ops configured, for example `jamf`.",
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
        },
        "action": {
            "description": "What to do to each computer: lock it (default), erase it, or only report it.",
            "enum": sorted(ACTIONS),
            "default": "lock",
        },
        "pin": {
            "description": "Six-digit PIN for the lock/erase command; generated when absent.",
            "type": "string",
            "pattern": "^[0-9]{6}$",
        },
        "message": {
            "description": "Shown on the locked screen.",
            "type": "string",
            "maxLength": 200,
        },
    },
    "additionalProperties": False,
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "jamf-offboard output",
    "type": "object",
    "required": ["email", "devices", "actions", "sent"],
    "properties": {
        "email": {"type": "string"},
        "devices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "serial": {"type": ["string", "null"]},
                    "management_id": {"type": ["string", "null"]},
                    "last_contact": {"type": ["string", "null"]},
                },
            },
        },
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["device_id", "command", "status"],
                "properties": {
                    "device_id": {"type": "string"},
                    "command": {"type": "string"},
                    "status": {"enum": ["sent", "planned", "skipped"]},
                    "command_id": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
        "sent": {
            "description": "How many computers the command was sent to (for a message: \"Macs locked: 1\").",
            "type": "integer",
        },
        "pin": {
            "description": "The PIN the card generated (only when the input gave none): IT needs it to unlock.",
            "type": "string",
        },
    },
}

_EMAIL = re.compile(r"^[^@\s\"\\]+@[^@\s\"\\]+$")
_PIN = re.compile(r"^[0-9]{6}$")


class CardFailure(Exception):
    """A failure the card reports to the flow as a `card-error`."""

    def __init__(self, kind, message, retryable=False, retry_after_ms=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms


class Call:
    """What `run` gets besides its input: the call context and the two capabilities."""

    def __init__(self, send, log, idempotency_key, dry_run):
        # send(method, url, headers, body, connection, timeout_ms) -> (status, headers, body bytes)
        self.send = send
        # log(level, message, fields dict or None)
        self.log = log
        self.idempotency_key = idempotency_key
        self.dry_run = dry_run


def parse_input(text):
    """The validated input, or CardFailure("invalid-input") naming the field."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise CardFailure("invalid-input", f"input is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise CardFailure("invalid-input", "input must be a JSON object")
    unknown = sorted(set(data) - set(INPUT_SCHEMA["properties"]))
    if unknown:
        raise CardFailure("invalid-input", f"unknown input field(s): {', '.join(unknown)}")

    user = data.get("user")
    if not isinstance(user, dict):
        raise CardFailure("invalid-input", "`user` must be an object with `id` and `email`")
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise CardFailure("invalid-input", "`user.id` must be a non-empty string")
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    email = user.get("email") or profile.get("email")
    if not isinstance(email, str) or len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise CardFailure("invalid-input", f"`user.email` (or `user.profile.email`) must be an email address, got {email!r}")

    connection = data.get("connection")
    if not isinstance(connection, str) or not 1 <= len(connection) <= 64:
        raise CardFailure("invalid-input", "`connection` must name a connection (1 to 64 characters)")

    action = data.get("action", "lock")
    if action not in ACTIONS:
        raise CardFailure("invalid-input", f"`action` must be one of {', '.join(sorted(ACTIONS))}, got {action!r}")
    pin = data.get("pin")
    if pin is not None and (not isinstance(pin, str) or not _PIN.match(pin)):
        raise CardFailure("invalid-input", "`pin` must be six digits")
    message = data.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > 200):
        raise CardFailure("invalid-input", "`message` must be a string of at most 200 characters")

    return {
        "user_id": user_id,
        "email": email,
        "connection": connection,
        "action": action,
        "pin": pin,
        "message": message,
    }


def _retry_after_ms(headers):
    for name, value in headers:
        if name.lower() == "retry-after":
            try:
                return max(0, int(float(value) * 1000))
            except ValueError:
                return None  # an HTTP date: let the engine's backoff decide
    return None


def _remote_detail(body):
    """A short reason from a JAMF error body, for the flow author."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(doc, dict):
        errors = doc.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("description") or errors[0].get("code") or "")[:200]
        return str(doc.get("message") or doc.get("error") or "")[:200]
    return ""


def check_status(what, status, headers, body):
    """Map a non-2xx JAMF answer to the card-error kind a flow can act on."""
    if 200 <= status < 300:
        return
    detail = _remote_detail(body)
    msg = f"{what}: jamf answered {status}" + (f" ({detail})" if detail else "")
    if status == 404:
        raise CardFailure("not-found", msg)
    if status in (401, 403):
        raise CardFailure("denied", msg + "; check the connection's credentials and API role")
    if status == 409:
        raise CardFailure("conflict", msg)
    if status == 429:
        raise CardFailure("rate-limited", msg, retryable=True, retry_after_ms=_retry_after_ms(headers))
    if status in (408, 504):
        raise CardFailure("timeout", msg, retryable=True)
    if status >= 500:
        raise CardFailure("unavailable", msg, retryable=True)
    if status in (400, 422):
        raise CardFailure("invalid-input", msg)
    raise CardFailure("internal", msg)


def _json_body(what, body):
    try:
        return json.loads(body)
    except ValueError:
        raise CardFailure("internal", f"{what}: jamf answered with something that is not JSON") from None


def find_computers(call, inp):
    """Every computer whose user-and-location email is the leaver's, every page."""
    rsql = f'userAndLocation.email=="{inp["email"]}"'
    devices = []
    for page in range(MAX_PAGES):
        url = (
            "/api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION"
            f"&page={page}&page-size={PAGE_SIZE}&filter={quote(rsql, safe='')}"
        )
        status, headers, body = call.send("GET", url, [("accept", "application/json")], None, inp["connection"], HTTP_TIMEOUT_MS)
        check_status("searching computers", status, headers, body)
        doc = _json_body("searching computers", body)
        results = doc.get("results") if isinstance(doc, dict) else None
        if not isinstance(results, list):
            raise CardFailure("internal", "searching computers: jamf's answer has no `results` list")
        for item in results:
            general = item.get("general") or {}
            hardware = item.get("hardware") or {}
            devices.append({
                "id": str(item.get("id")),
                "name": general.get("name") or "",
                "serial": hardware.get("serialNumber"),
                "management_id": general.get("managementId"),
                "last_contact": general.get("lastContactTime"),
            })
        total = doc.get("totalCount", len(devices))
        if len(results) < PAGE_SIZE or len(devices) >= total:
            return devices
    raise CardFailure("internal", f"more than {MAX_PAGES * PAGE_SIZE} computers match {inp['email']}; refusing to act on all of them")


def send_command(call, inp, device, command_type, pin):
    command = {"commandType": command_type, "pin": pin}
    if command_type == "DEVICE_LOCK" and inp["message"]:
        command["message"] = inp["message"]
    if command_type == "ERASE_DEVICE":
        command["obliterationBehavior"] = "Default"
    body = json.dumps({
        "clientData": [{"managementId": device["management_id"]}],
        "commandData": command,
    }).encode()
    headers = [
        ("content-type", "application/json"),
        ("accept", "application/json"),
        # One key per device: a retried attempt of this step resends the same keys.
        ("idempotency-key", f"{call.idempotency_key}/{device['id']}"),
    ]
    what = f"sending {command_type} to computer {device['id']}"
    status, rheaders, rbody = call.send("POST", "/api/v2/mdm/commands", headers, body, inp["connection"], HTTP_TIMEOUT_MS)
    check_status(what, status, rheaders, rbody)
    doc = _json_body(what, rbody) if rbody else []
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        return str(doc[0].get("id", ""))
    if isinstance(doc, dict):
        return str(doc.get("id", ""))
    return ""


def run(call, input_text):
    """The card's `run`: the output as a JSON string, or CardFailure."""
    inp = parse_input(input_text)
    command_type = ACTIONS[inp["action"]]
    devices = find_computers(call, inp)
    call.log("info", f"jamf has {len(devices)} computer(s) for {inp['email']}", {
        "user": inp["user_id"], "count": len(devices), "connection": inp["connection"],
    })

    output = {"email": inp["email"], "devices": devices, "actions": [], "sent": 0}
    if command_type is None or not devices:
        return json.dumps(output)

    pin = inp["pin"]
    if pin is None:
        pin = f"{secrets.randbelow(10**6):06d}"
        output["pin"] = pin

    for device in devices:
        action = {"device_id": device["id"], "command": command_type}
        if not device["management_id"]:
            action.update(status="skipped", reason="not managed (no management id)")
            call.log("warn", f"computer {device['id']} is not managed; skipped", {"device": device["id"]})
        elif call.dry_run:
            action["status"] = "planned"
        else:
            action["command_id"] = send_command(call, inp, device, command_type, pin)
            action["status"] = "sent"
            output["sent"] += 1
            call.log("info", f"sent {command_type} to {device['name'] or device['id']}", {
                "device": device["id"], "command": action["command_id"],
            })
        output["actions"].append(action)
    return json.dumps(output)
