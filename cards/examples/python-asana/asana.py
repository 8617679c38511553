"""Offboarding step for a leaver's Asana account: hand their open tasks to
someone (usually their manager), then remove them from their workspaces, all
through the Asana connection the flow names.

This module is the card's logic and knows nothing of WebAssembly: it talks to
the world through the `send` and `log` callables it is given, so that it runs
(and is tested) under plain CPython too. `app.py` binds it to the card
contract's `http` and `log` imports.

It has a twin, `cards/examples/rust-asana-offboard/src/asana.rs`: both are the
card `acme.asana-offboard` 1.0.0 and must agree in everything a flow can see
(the input they accept and the messages they refuse it with, the requests, the
error kinds and messages, the log lines and the output), so a change here is a
change there, tests included. That is why some choices below are spelled out
rather than left to Python: JSON is written compactly with sorted keys and
without `\\u` escapes for non-ASCII, `NaN` and `Infinity` are not JSON, and
whitespace is `str.isspace()`.

It must not read files, the environment or the clock, and holds no
credential: the host injects the Asana token of the named connection.
"""

import json
import re
from urllib.parse import quote

NAME = "acme.asana-offboard"
VERSION = "1.0.0"
DESCRIPTION = (
    "Take a leaver out of Asana: hand their open tasks to someone (usually their "
    "manager) and remove them from their workspaces, through the Asana connection "
    "the flow names. Running it again changes nothing."
)

# Limits: a leaver with more open tasks than this in one workspace is a data
# problem worth a look, not something to move one request at a time.
PAGE_SIZE = 100
MAX_PAGES = 20
MAX_EMAIL = 320
HTTP_TIMEOUT_MS = 15_000
U64_MAX = 2**64 - 1

DENIED_HINT = "; check the connection's token (a workspace admin's personal access token or service account)"

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "asana-offboard input",
    "type": "object",
    "required": ["user", "connection"],
    "properties": {
        "user": {
            "description": "The leaver: an Okta user (as okta.get-user outputs it), or just its id and email.",
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
            "description": "The Asana connection ops configured (base URL `https://app.asana.com/api/1.0`), for example `asana`.",
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
        },
        "workspace": {
            "description": "Only this Asana workspace, by gid; absent: every workspace of the leaver's that the connection sees.",
            "type": "string",
            "pattern": "^[0-9]{1,32}$",
        },
        "transfer_to": {
            "description": "The email of who receives the leaver's open tasks (usually their manager); absent or null: the tasks are counted, not moved.",
            "type": ["string", "null"],
            "format": "email",
            "maxLength": MAX_EMAIL,
        },
    },
    "additionalProperties": False,
}

_COUNT = {"type": "integer", "minimum": 0}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "asana-offboard output",
    "type": "object",
    "required": ["email", "asana_user_id", "outcome", "status", "transfer_to", "tasks_reassigned", "tasks_left", "workspaces"],
    "properties": {
        "email": {"type": "string"},
        "asana_user_id": {"type": ["string", "null"], "description": "The leaver's Asana user gid; null when Asana has no such user."},
        "outcome": {"enum": ["changed", "unchanged"], "description": "`changed` when a task was moved or a membership removed (in a dry run: would be)."},
        "status": {
            "enum": ["removed", "absent"],
            "description": "`removed`: the leaver is in none of the targeted workspaces any more; `absent`: Asana has no such user.",
        },
        "transfer_to": {"type": ["string", "null"], "description": "Who receives the open tasks, as the input said; null: they were not moved."},
        "tasks_reassigned": {**_COUNT, "description": "Open tasks moved to `transfer_to`, in every targeted workspace."},
        "tasks_left": {**_COUNT, "description": "Open tasks left assigned to the leaver in the targeted workspaces."},
        "workspaces": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["gid", "name", "open_tasks", "reassigned", "removed", "was_member"],
                "properties": {
                    "gid": {"type": "string"},
                    "name": {"type": "string"},
                    "open_tasks": {**_COUNT, "description": "Open tasks assigned to the leaver there before this run."},
                    "reassigned": _COUNT,
                    "removed": {"type": "boolean", "description": "This run removed the leaver from the workspace."},
                    "was_member": {"type": "boolean", "description": "The leaver was a member when the run began."},
                },
            },
        },
        "planned": {"type": "boolean", "description": "True in a dry run: nothing was written; the rest says what would have been."},
    },
}

_EMAIL = re.compile(r'[^@\s"\\/?#%]+@[^@\s"\\/?#%]+')
_GID = re.compile(r"[0-9]{1,32}")
_SECONDS = re.compile(r"[0-9]+")


class CardFailure(Exception):
    """A failure the card reports to the flow as a `card-error`."""

    def __init__(self, kind, message, retryable=False, retry_after_ms=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms


class Call:
    """What `run` gets besides its input: the two capabilities and whether this is a dry run."""

    def __init__(self, send, log, dry_run):
        # send(method, url, headers, body bytes or None, connection, timeout_ms) -> (status, headers, body bytes)
        self.send = send
        # log(level, message, fields dict)
        self.log = log
        self.dry_run = dry_run


def dumps(value, sort_keys=True):
    """JSON as the Rust twin's serde_json writes it: compact and UTF-8, the keys
    of a JSON value sorted (those of its output in field order: `sort_keys=False`)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite(text):
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return number


def loads(text):
    """JSON as serde_json reads it: no NaN or Infinity, no number beyond a double."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


_NOT_JSON = object()


def _json(body):
    """The body as JSON, or _NOT_JSON (invalid UTF-8, a BOM, NaN: what serde_json refuses too)."""
    try:
        return loads(body.decode("utf-8"))
    except ValueError:
        return _NOT_JSON


def _is_email(value):
    return isinstance(value, str) and len(value) <= MAX_EMAIL and _EMAIL.fullmatch(value) is not None


def _same_address(a, b):
    # ASCII case-insensitive, as Asana matches addresses (bytes.lower() touches only ASCII).
    return a.encode().lower() == b.encode().lower()


def _q(text):
    """RFC 3986 percent-encoding: everything but the unreserved `A-Z a-z 0-9 - . _ ~`."""
    return quote(text, safe="")


def parse_input(text):
    """The validated input, or CardFailure("invalid-input") naming the field."""
    try:
        data = loads(text)
    except ValueError as e:
        raise CardFailure("invalid-input", f"input is not JSON: {e}") from None
    return check_input(data)


def check_input(data):
    """The checks the schema states, with messages that name the field."""
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
    email = user.get("email")
    if email is None or email == "":
        profile = user.get("profile")
        email = profile.get("email") if isinstance(profile, dict) else None
    if not _is_email(email):
        raise CardFailure("invalid-input", f"`user.email` (or `user.profile.email`) must be an email address, got {dumps(email)}")

    connection = data.get("connection")
    if not isinstance(connection, str) or not 1 <= len(connection) <= 64:
        raise CardFailure("invalid-input", "`connection` must name a connection (1 to 64 characters)")

    workspace = None
    if "workspace" in data:
        workspace = data["workspace"]
        if not isinstance(workspace, str) or not _GID.fullmatch(workspace):
            raise CardFailure("invalid-input", f"`workspace` must be an Asana workspace gid (1 to 32 digits), got {dumps(workspace)}")

    transfer_to = data.get("transfer_to")
    if transfer_to is not None:
        if not _is_email(transfer_to):
            raise CardFailure("invalid-input", f"`transfer_to` must be an email address, got {dumps(transfer_to)}")
        if _same_address(transfer_to, email):
            raise CardFailure("invalid-input", f"`transfer_to` is the leaver's own email ({email}); name someone else, usually their manager")

    return {
        "user_id": user_id,
        "email": email,
        "connection": connection,
        "workspace": workspace,
        "transfer_to": transfer_to,
    }


def _retry_after_ms(headers):
    """Retry-After in delay-seconds (RFC 9110), as milliseconds; None for an HTTP date."""
    for name, value in headers:
        if name.lower() == "retry-after":
            value = value.strip(" \t")
            if not _SECONDS.fullmatch(value):
                return None  # an HTTP date: let the engine's backoff decide
            return min(int(value) * 1000, U64_MAX)
    return None


def _remote_detail(body):
    """Asana's `errors[0].message`, or the start of a body that is not JSON."""
    doc = _json(body)
    if doc is _NOT_JSON:
        return body.decode("utf-8", "replace")[:200].strip()
    if isinstance(doc, dict):
        errors = doc.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message")
            if isinstance(message, str):
                return message[:200]
    return ""


def check_status(what, status, headers, body):
    """Map a non-2xx Asana answer to the card-error kind a flow can act on."""
    if 200 <= status < 300:
        return
    detail = _remote_detail(body)
    msg = f"{what}: asana answered {status}" + (f" ({detail})" if detail else "")
    if status == 404:
        raise CardFailure("not-found", msg)
    if status in (401, 403):
        raise CardFailure("denied", msg + DENIED_HINT)
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


def _request(call, inp, what, method, url, body=None):
    """Send one request through the connection; the body of a 2xx answer."""
    headers = [("accept", "application/json")]
    data = None
    if body is not None:
        headers.append(("content-type", "application/json"))
        data = dumps(body).encode()
    status, rheaders, rbody = call.send(method, url, headers, data, inp["connection"], HTTP_TIMEOUT_MS)
    check_status(what, status, rheaders, rbody)
    return rbody


def _gid(value):
    return value.get("gid") if isinstance(value, dict) and isinstance(value.get("gid"), str) and value.get("gid") else None


def _asana_user(what, body):
    """The user's gid and workspaces ({gid: name}, in Asana's order) from GET /users/{email}."""
    doc = _json(body)
    if doc is _NOT_JSON:
        raise CardFailure("internal", f"{what}: asana answered with something that is not JSON")
    user = doc.get("data") if isinstance(doc, dict) else None
    listed = user.get("workspaces") if isinstance(user, dict) else None
    if _gid(user) is None or not isinstance(listed, list):
        raise CardFailure("internal", f"{what}: asana's answer is not a user with `gid` and `workspaces`")
    workspaces = {}
    for item in listed:
        name = item.get("name") if isinstance(item, dict) else None
        if _gid(item) is None or not isinstance(name, (str, type(None))):
            raise CardFailure("internal", f"{what}: asana's answer is not a user with `gid` and `workspaces`")
        workspaces.setdefault(item["gid"], name or "")
    return user["gid"], workspaces


def _open_tasks(call, inp, user_gid, workspace):
    """The gids of the leaver's open tasks in one workspace, every page."""
    what = f"listing the open tasks of {inp['email']} in workspace {workspace}"
    first = f"/tasks?assignee={_q(user_gid)}&workspace={_q(workspace)}&completed_since=now&limit={PAGE_SIZE}&opt_fields=name"
    url = first
    tasks = []
    for _ in range(MAX_PAGES):
        doc = _json(_request(call, inp, what, "GET", url))
        if doc is _NOT_JSON:
            raise CardFailure("internal", f"{what}: asana answered with something that is not JSON")
        data = doc.get("data") if isinstance(doc, dict) else None
        next_page = doc.get("next_page") if isinstance(doc, dict) else None
        offset = next_page.get("offset") if isinstance(next_page, dict) else None
        if (
            not isinstance(data, list)
            or any(_gid(task) is None for task in data)
            or not (next_page is None or (isinstance(offset, str) and offset))
        ):
            raise CardFailure("internal", f"{what}: asana's answer is not a page of tasks (`data`, `next_page`)")
        tasks.extend(task["gid"] for task in data)
        if next_page is None:
            return tasks
        url = f"{first}&offset={_q(offset)}"
    raise CardFailure(
        "internal",
        f"more than {MAX_PAGES * PAGE_SIZE} open tasks are assigned to {inp['email']} in workspace {workspace}; refusing to go through them all",
    )


def _label(entry):
    return f"{entry['name']} ({entry['gid']})" if entry["name"] else f"workspace {entry['gid']}"


def _offboard(call, inp, user_gid, entry):
    """Move the open tasks out of one workspace, then the leaver; fills in `entry`."""
    email, transfer_to, dry_run = inp["email"], inp["transfer_to"], call.dry_run
    tasks = _open_tasks(call, inp, user_gid, entry["gid"])
    entry["open_tasks"] = len(tasks)
    if transfer_to is not None:
        for task in tasks:
            if not dry_run:
                _request(call, inp, f"moving task {task} to {transfer_to}", "PUT", f"/tasks/{_q(task)}", {"data": {"assignee": transfer_to}})
            entry["reassigned"] += 1
    if not dry_run:
        _request(call, inp, f"removing {email} from workspace {entry['gid']}", "POST", f"/workspaces/{_q(entry['gid'])}/removeUser", {"data": {"user": user_gid}})
    entry["removed"] = True

    left = entry["open_tasks"] - entry["reassigned"]
    removed, moved = ("would remove", "would move") if dry_run else ("removed", "moved")
    if transfer_to is None:
        tasks_said = f"{left} open task(s) left assigned to them"
    else:
        tasks_said = f"{moved} {entry['reassigned']} open task(s) to {transfer_to}"
    call.log("info", f"{removed} {email} from asana {_label(entry)}; {tasks_said}", {
        "user": inp["user_id"], "workspace": entry["gid"], "reassigned": entry["reassigned"], "left": left,
    })


def _output(inp, user_gid, workspaces, dry_run):
    reassigned = sum(w["reassigned"] for w in workspaces)
    out = {
        "email": inp["email"],
        "asana_user_id": user_gid,
        "outcome": "changed" if reassigned or any(w["removed"] for w in workspaces) else "unchanged",
        "status": "absent" if user_gid is None else "removed",
        "transfer_to": inp["transfer_to"],
        "tasks_reassigned": reassigned,
        "tasks_left": sum(w["open_tasks"] - w["reassigned"] for w in workspaces),
        "workspaces": workspaces,
    }
    if dry_run:
        out["planned"] = True
    return out


def run(call, input_text):
    """The card's `run`: the output as a JSON string, or CardFailure."""
    inp = parse_input(input_text)
    email = inp["email"]
    what = f"looking up {email}"
    url = f"/users/{_q(email)}?opt_fields=email,name,workspaces.name"
    status, headers, body = call.send("GET", url, [("accept", "application/json")], None, inp["connection"], HTTP_TIMEOUT_MS)
    if status == 404:
        call.log("info", f"no asana user for {email}; nothing to do", {"user": inp["user_id"]})
        return dumps(_output(inp, None, [], call.dry_run), sort_keys=False)
    check_status(what, status, headers, body)
    user_gid, member_of = _asana_user(what, body)

    if inp["workspace"] is None:
        # Numeric order for gids (all digits in Asana), whatever order Asana lists them in.
        targets = sorted(member_of, key=lambda gid: (len(gid), gid))
        if not targets:
            call.log("info", f"{email} is in no asana workspace the connection sees; nothing to do", {"user": inp["user_id"]})
    else:
        targets = [inp["workspace"]]

    workspaces = []
    for gid in targets:
        entry = {
            "gid": gid,
            "name": member_of.get(gid, ""),
            "open_tasks": 0,
            "reassigned": 0,
            "removed": False,
            "was_member": gid in member_of,
        }
        if entry["was_member"]:
            _offboard(call, inp, user_gid, entry)
        else:
            call.log("info", f"{email} is not a member of asana workspace {gid}; nothing to do", {"user": inp["user_id"], "workspace": gid})
        workspaces.append(entry)
    return dumps(_output(inp, user_gid, workspaces, call.dry_run), sort_keys=False)
