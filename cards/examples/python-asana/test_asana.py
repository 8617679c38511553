"""Tests of the card's logic under plain CPython, with a fake Asana API in place
of the host's `http` import. Run with `python3 -m unittest` (or pytest).

The Rust twin (`cards/examples/rust-asana-offboard/src/asana.rs`) runs the same
cases against the same fake and expects the same requests, logs, outputs and
messages, to the letter: change them together.
"""

import json
import unittest
from collections import namedtuple
from urllib.parse import parse_qs, unquote, urlsplit

import asana
from asana import CardFailure

LEAVER = "ada@example.com"
MANAGER = "bob@example.com"
# Asana's offsets are opaque tokens; this one needs percent-encoding in a query.
OFFSET = "eyJ0+b/c="
INJECTED = json.dumps({"errors": [{"message": "injected", "help": "see the docs"}]}).encode()

Sent = namedtuple("Sent", "method url headers body connection timeout_ms")


def answer(status, doc=None, headers=()):
    return status, list(headers), b"" if doc is None else json.dumps(doc).encode()


class FakeAsana:
    """Just enough of Asana's users, tasks and workspaces API."""

    def __init__(self):
        self.workspaces = {}  # gid -> name
        self.users = []  # {"gid", "email", "name", "workspaces": [gid]}
        self.tasks = []  # {"gid", "name", "assignee": user gid, "workspace": gid, "completed": bool}
        self.fail = None  # (method, status): the next request with this method answers so
        self.requests = []
        self.logs = []

    def user(self, gid, email, *workspaces):
        self.users.append({"gid": gid, "email": email, "name": email.split("@")[0], "workspaces": list(workspaces)})

    def open_tasks(self, assignee, workspace, count, completed=False):
        for i in range(count):
            gid = f"t-{workspace}-{len(self.tasks) + 1}"
            self.tasks.append({"gid": gid, "name": f"task {gid}", "assignee": assignee, "workspace": workspace, "completed": completed})

    def find_user(self, key):
        return next((u for u in self.users if key in (u["gid"], u["email"])), None)

    def assigned(self, user_gid):
        return [t["gid"] for t in self.tasks if t["assignee"] == user_gid and not t["completed"]]

    def send(self, method, url, headers, body, connection, timeout_ms):
        self.requests.append(Sent(method, url, headers, body, connection, timeout_ms))
        if self.fail and self.fail[0] == method:
            status, self.fail = self.fail[1], None
            return status, [("Retry-After", "7")], INJECTED
        parts = urlsplit(url)
        # parse_qs reads `+` as a space: a `+` the card failed to encode shows.
        query = parse_qs(parts.query)
        segments = [unquote(s) for s in parts.path.split("/")[1:]]
        if method == "GET" and len(segments) == 2 and segments[0] == "users":
            user = self.find_user(segments[1])
            if user is None:
                return answer(404, {"errors": [{"message": f"user: Unknown object: {segments[1]}", "help": "..."}]})
            assert query == {"opt_fields": ["email,name,workspaces.name"]}, query
            listed = [{"gid": w, "name": self.workspaces[w]} for w in user["workspaces"]]
            return answer(200, {"data": {"gid": user["gid"], "email": user["email"], "name": user["name"], "workspaces": listed}})
        if method == "GET" and segments == ["tasks"]:
            assert (query["completed_since"], query["opt_fields"]) == (["now"], ["name"]), query
            limit = int(query["limit"][0])
            start = int(query["offset"][0].removeprefix(OFFSET)) if "offset" in query else 0
            found = [t for t in self.tasks if (t["assignee"], t["workspace"], t["completed"]) == (query["assignee"][0], query["workspace"][0], False)]
            page = [{"gid": t["gid"], "name": t["name"]} for t in found[start:start + limit]]
            following = None
            if start + limit < len(found):
                following = {"offset": f"{OFFSET}{start + limit}", "path": "/tasks?...", "uri": "https://app.asana.com/api/1.0/tasks?..."}
            return answer(200, {"data": page, "next_page": following})
        if method == "PUT" and len(segments) == 2 and segments[0] == "tasks":
            task = next((t for t in self.tasks if t["gid"] == segments[1]), None)
            if task is None:
                return answer(404, {"errors": [{"message": "task: Unknown object"}]})
            to = self.find_user(json.loads(body)["data"]["assignee"])
            if to is None:
                return answer(400, {"errors": [{"message": "assignee: Not a recognized ID"}]})
            task["assignee"] = to["gid"]
            return answer(200, {"data": {"gid": task["gid"], "name": task["name"], "assignee": {"gid": to["gid"]}}})
        if method == "POST" and len(segments) == 3 and segments[0] == "workspaces" and segments[2] == "removeUser":
            user = self.find_user(json.loads(body)["data"]["user"])
            if segments[1] in user["workspaces"]:
                user["workspaces"].remove(segments[1])
            return answer(204)
        return answer(404, {"errors": [{"message": f"no route {method} {parts.path}"}]})

    def log(self, level, message, fields):
        self.logs.append((level, message, fields))

    def run(self, dry_run=False, **fields):
        inp = {"user": {"id": "00u1", "email": LEAVER}, "connection": "asana", **fields}
        return json.loads(asana.run(asana.Call(self.send, self.log, dry_run), json.dumps(inp)))

    def sent(self):
        return [f"{r.method} {r.url}" for r in self.requests]


def acme():
    """Ada in two workspaces (listed out of numeric order), with 3 open tasks in
    one and two pages of them in the other; Bob, her manager, in both."""
    fake = FakeAsana()
    fake.workspaces = {"1201": "Acme", "98": "Acme Labs", "5": "Elsewhere"}
    fake.user("501", LEAVER, "1201", "98")
    fake.user("502", MANAGER, "1201", "98")
    fake.open_tasks("501", "98", 3)
    fake.open_tasks("501", "98", 1, completed=True)
    fake.open_tasks("502", "98", 1)
    fake.open_tasks("501", "1201", asana.PAGE_SIZE + 2)
    return fake


def tasks_url(workspace, offset=None):
    url = f"GET /tasks?assignee=501&workspace={workspace}&completed_since=now&limit=100&opt_fields=name"
    return url if offset is None else f"{url}&offset={offset}"


def workspace(gid, name, open_tasks, reassigned, removed=True, was_member=True):
    return {"gid": gid, "name": name, "open_tasks": open_tasks, "reassigned": reassigned, "removed": removed, "was_member": was_member}


class AsanaOffboardTest(unittest.TestCase):
    def test_moves_open_tasks_and_removes_from_every_workspace(self):
        fake = acme()
        out = fake.run(transfer_to=MANAGER)
        self.assertEqual(out, {
            "email": LEAVER,
            "asana_user_id": "501",
            "outcome": "changed",
            "status": "removed",
            "transfer_to": MANAGER,
            "tasks_reassigned": 105,
            "tasks_left": 0,
            "workspaces": [workspace("98", "Acme Labs", 3, 3), workspace("1201", "Acme", 102, 102)],
        })
        puts = [f"PUT /tasks/t-98-{i}" for i in (1, 2, 3)]
        self.assertEqual(fake.sent()[:7], [
            "GET /users/ada%40example.com?opt_fields=email,name,workspaces.name",
            tasks_url("98"),
            *puts,
            "POST /workspaces/98/removeUser",
            tasks_url("1201"),
        ])
        self.assertEqual(fake.sent()[7], tasks_url("1201", "eyJ0%2Bb%2Fc%3D100"))
        self.assertEqual(fake.sent()[8:], [f"PUT /tasks/t-1201-{i}" for i in range(6, 108)] + ["POST /workspaces/1201/removeUser"])
        self.assertEqual(fake.requests[2].body, b'{"data":{"assignee":"bob@example.com"}}')
        self.assertEqual(fake.requests[5].body, b'{"data":{"user":"501"}}')
        for r in fake.requests:
            self.assertEqual((r.connection, r.timeout_ms), ("asana", 15_000))
            expected = [("accept", "application/json")] + ([("content-type", "application/json")] if r.body else [])
            self.assertEqual(r.headers, expected, r.url)
        self.assertEqual(fake.find_user(LEAVER)["workspaces"], [])
        self.assertEqual(fake.assigned("501"), [])
        self.assertEqual(len(fake.assigned("502")), 106)
        self.assertEqual(fake.logs, [
            ("info", "removed ada@example.com from asana Acme Labs (98); moved 3 open task(s) to bob@example.com",
             {"user": "00u1", "workspace": "98", "reassigned": 3, "left": 0}),
            ("info", "removed ada@example.com from asana Acme (1201); moved 102 open task(s) to bob@example.com",
             {"user": "00u1", "workspace": "1201", "reassigned": 102, "left": 0}),
        ])

    def test_without_transfer_to_tasks_are_counted_not_moved(self):
        for fields in ({}, {"transfer_to": None}):
            with self.subTest(fields=fields):
                fake = acme()
                out = fake.run(**fields)
                self.assertEqual((out["outcome"], out["transfer_to"], out["tasks_reassigned"], out["tasks_left"]), ("changed", None, 0, 105))
                self.assertEqual(out["workspaces"], [workspace("98", "Acme Labs", 3, 0), workspace("1201", "Acme", 102, 0)])
                self.assertEqual([r.method for r in fake.requests], ["GET", "GET", "POST", "GET", "GET", "POST"])
                self.assertEqual(len(fake.assigned("501")), 105)
                self.assertEqual(fake.logs[0][1], "removed ada@example.com from asana Acme Labs (98); 3 open task(s) left assigned to them")
                self.assertEqual(fake.logs[0][2], {"user": "00u1", "workspace": "98", "reassigned": 0, "left": 3})

    def test_a_leaver_asana_does_not_know_is_absent(self):
        fake = FakeAsana()
        out = fake.run(transfer_to=MANAGER)
        self.assertEqual(out, {
            "email": LEAVER, "asana_user_id": None, "outcome": "unchanged", "status": "absent", "transfer_to": MANAGER,
            "tasks_reassigned": 0, "tasks_left": 0, "workspaces": [],
        })
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(fake.logs, [("info", "no asana user for ada@example.com; nothing to do", {"user": "00u1"})])

    def test_running_it_again_changes_nothing(self):
        fake = acme()
        self.assertEqual(fake.run(transfer_to=MANAGER)["outcome"], "changed")
        fake.requests, fake.logs = [], []
        out = fake.run(transfer_to=MANAGER)
        self.assertEqual(out, {
            "email": LEAVER, "asana_user_id": "501", "outcome": "unchanged", "status": "removed", "transfer_to": MANAGER,
            "tasks_reassigned": 0, "tasks_left": 0, "workspaces": [],
        })
        self.assertEqual(fake.sent(), ["GET /users/ada%40example.com?opt_fields=email,name,workspaces.name"])
        self.assertEqual(fake.logs, [("info", "ada@example.com is in no asana workspace the connection sees; nothing to do", {"user": "00u1"})])

    def test_a_named_workspace_the_leaver_is_not_in(self):
        fake = acme()
        out = fake.run(workspace="5", transfer_to=MANAGER)
        self.assertEqual((out["outcome"], out["status"]), ("unchanged", "removed"))
        self.assertEqual(out["workspaces"], [workspace("5", "", 0, 0, removed=False, was_member=False)])
        self.assertEqual(len(fake.requests), 1)
        self.assertEqual(fake.logs, [("info", "ada@example.com is not a member of asana workspace 5; nothing to do", {"user": "00u1", "workspace": "5"})])

    def test_a_named_workspace_is_the_only_one_touched(self):
        fake = acme()
        out = fake.run(workspace="98", transfer_to=MANAGER)
        self.assertEqual(out["workspaces"], [workspace("98", "Acme Labs", 3, 3)])
        self.assertEqual((out["tasks_reassigned"], out["tasks_left"]), (3, 0))
        self.assertEqual(fake.find_user(LEAVER)["workspaces"], ["1201"])
        self.assertEqual(len(fake.assigned("501")), 102)

    def test_a_dry_run_reads_but_does_not_write(self):
        fake = acme()
        out = fake.run(dry_run=True, transfer_to=MANAGER)
        self.assertEqual(out["planned"], True)
        self.assertEqual((out["outcome"], out["tasks_reassigned"], out["tasks_left"]), ("changed", 105, 0))
        self.assertEqual(out["workspaces"], [workspace("98", "Acme Labs", 3, 3), workspace("1201", "Acme", 102, 102)])
        self.assertEqual(fake.sent(), [
            "GET /users/ada%40example.com?opt_fields=email,name,workspaces.name",
            tasks_url("98"), tasks_url("1201"), tasks_url("1201", "eyJ0%2Bb%2Fc%3D100"),
        ])
        self.assertEqual((fake.find_user(LEAVER)["workspaces"], len(fake.assigned("501"))), (["1201", "98"], 105))
        self.assertEqual(fake.logs[0][1], "would remove ada@example.com from asana Acme Labs (98); would move 3 open task(s) to bob@example.com")
        absent = FakeAsana().run(dry_run=True)
        self.assertEqual((absent["status"], absent["planned"]), ("absent", True))
        self.assertNotIn("planned", acme().run())

    def test_remote_failures_map_to_card_error_kinds(self):
        looking_up = "looking up ada@example.com"
        cases = [
            ("GET", 401, "denied", False, None, looking_up),
            ("GET", 403, "denied", False, None, looking_up),
            ("GET", 409, "conflict", False, None, looking_up),
            ("GET", 429, "rate-limited", True, 7000, looking_up),
            ("GET", 408, "timeout", True, None, looking_up),
            ("GET", 504, "timeout", True, None, looking_up),
            ("GET", 500, "unavailable", True, None, looking_up),
            ("GET", 503, "unavailable", True, None, looking_up),
            ("GET", 400, "invalid-input", False, None, looking_up),
            ("GET", 422, "invalid-input", False, None, looking_up),
            ("GET", 418, "internal", False, None, looking_up),
            ("GET", 302, "internal", False, None, looking_up),
            ("PUT", 404, "not-found", False, None, "moving task t-98-1 to bob@example.com"),
            ("PUT", 429, "rate-limited", True, 7000, "moving task t-98-1 to bob@example.com"),
            ("POST", 404, "not-found", False, None, "removing ada@example.com from workspace 98"),
            ("POST", 403, "denied", False, None, "removing ada@example.com from workspace 98"),
        ]
        for method, status, kind, retryable, after, what in cases:
            with self.subTest(method=method, status=status):
                fake = acme()
                fake.fail = (method, status)
                with self.assertRaises(CardFailure) as e:
                    fake.run(transfer_to=MANAGER)
                f = e.exception
                self.assertEqual((f.kind, f.retryable, f.retry_after_ms), (kind, retryable, after))
                hint = asana.DENIED_HINT if kind == "denied" else ""
                self.assertEqual(f.message, f"{what}: asana answered {status} (injected){hint}")

    def test_error_details_and_retry_after(self):
        detail = asana._remote_detail
        self.assertEqual(detail(b'{"errors":[{"message":"workspace: Not a member","help":"..."}]}'), "workspace: Not a member")
        self.assertEqual(detail(json.dumps({"errors": [{"message": "x" * 300}]}).encode()), "x" * 200)
        self.assertEqual(detail(b"  <html>bad gateway</html>\n"), "<html>bad gateway</html>")
        self.assertEqual(detail(b'{"message":"not asana\'s shape"}'), "")
        self.assertEqual(detail(b'{"errors":[]}'), "")
        self.assertEqual(detail(b""), "")
        self.assertEqual(detail(b"NaN"), "NaN")
        self.assertEqual(detail(b"\xff\xfeoops"), "\ufffd\ufffdoops")
        after = asana._retry_after_ms
        self.assertEqual(after([("Retry-After", " 12 ")]), 12_000)
        self.assertEqual(after([("retry-after", "0")]), 0)
        self.assertEqual(after([("Retry-After", "1.5")]), None)
        self.assertEqual(after([("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT")]), None)
        self.assertEqual(after([("Retry-After", "99999999999999999999")]), asana.U64_MAX)
        self.assertEqual(after([]), None)

    def test_bad_input_names_the_field(self):
        leaver = {"id": "00u1", "email": LEAVER}
        cases = [
            ([], "input must be a JSON object"),
            ({"user": leaver, "connection": "asana", "extra": 1, "b": 2}, "unknown input field(s): b, extra"),
            ({"connection": "asana"}, "`user` must be an object with `id` and `email`"),
            ({"user": {"id": "", "email": LEAVER}, "connection": "asana"}, "`user.id` must be a non-empty string"),
            ({"user": {"id": "00u1"}, "connection": "asana"}, "`user.email` (or `user.profile.email`) must be an email address, got null"),
            ({"user": {"id": "00u1", "email": "", "profile": {"email": "nope"}}, "connection": "asana"},
             '`user.email` (or `user.profile.email`) must be an email address, got "nope"'),
            ({"user": {"id": "00u1", "email": "a b@example.com"}, "connection": "asana"},
             '`user.email` (or `user.profile.email`) must be an email address, got "a b@example.com"'),
            ({"user": {"id": "00u1", "email": ["ada@example.com"]}, "connection": "asana"},
             '`user.email` (or `user.profile.email`) must be an email address, got ["ada@example.com"]'),
            ({"user": leaver, "connection": ""}, "`connection` must name a connection (1 to 64 characters)"),
            ({"user": leaver, "connection": "c" * 65}, "`connection` must name a connection (1 to 64 characters)"),
            ({"user": leaver, "connection": "asana", "workspace": "12a"}, '`workspace` must be an Asana workspace gid (1 to 32 digits), got "12a"'),
            ({"user": leaver, "connection": "asana", "workspace": 1201}, "`workspace` must be an Asana workspace gid (1 to 32 digits), got 1201"),
            ({"user": leaver, "connection": "asana", "workspace": None}, "`workspace` must be an Asana workspace gid (1 to 32 digits), got null"),
            ({"user": leaver, "connection": "asana", "workspace": "1" * 33}, f'`workspace` must be an Asana workspace gid (1 to 32 digits), got "{"1" * 33}"'),
            ({"user": leaver, "connection": "asana", "workspace": "１２"}, '`workspace` must be an Asana workspace gid (1 to 32 digits), got "１２"'),
            ({"user": leaver, "connection": "asana", "transfer_to": "bob"}, '`transfer_to` must be an email address, got "bob"'),
            ({"user": leaver, "connection": "asana", "transfer_to": {"email": MANAGER}}, '`transfer_to` must be an email address, got {"email":"bob@example.com"}'),
            ({"user": leaver, "connection": "asana", "transfer_to": "ADA@Example.com"},
             "`transfer_to` is the leaver's own email (ada@example.com); name someone else, usually their manager"),
        ]
        for data, message in cases:
            with self.subTest(data=data):
                with self.assertRaises(CardFailure) as e:
                    asana.check_input(data)
                self.assertEqual((e.exception.kind, e.exception.message), ("invalid-input", message))
        # Text that is not JSON (the Rust twin's SDK refuses it before `run`, also as invalid-input).
        for text in ("not json", "NaN", '{"user": 1e999}'):
            with self.assertRaises(CardFailure) as e:
                asana.run(asana.Call(None, None, False), text)
            self.assertEqual(e.exception.kind, "invalid-input")

    def test_percent_encodes_path_segments_and_query_values(self):
        fake = acme()
        fake.user("503", "ada+asana@example.com", "98")
        fake.open_tasks("503", "98", 1)
        inp = {"user": {"id": "00u2", "email": "ada+asana@example.com"}, "connection": "asana", "transfer_to": MANAGER}
        out = json.loads(asana.run(asana.Call(fake.send, fake.log, False), json.dumps(inp)))
        self.assertEqual((out["asana_user_id"], out["tasks_reassigned"]), ("503", 1))
        self.assertEqual(fake.sent()[:2], [
            "GET /users/ada%2Basana%40example.com?opt_fields=email,name,workspaces.name",
            "GET /tasks?assignee=503&workspace=98&completed_since=now&limit=100&opt_fields=name",
        ])
        self.assertEqual(asana._q("a+b/c d=é~_.-"), "a%2Bb%2Fc%20d%3D%C3%A9~_.-")

    def test_refuses_an_unbounded_task_list(self):
        fake = acme()
        fake.open_tasks("501", "98", asana.PAGE_SIZE * asana.MAX_PAGES)
        with self.assertRaises(CardFailure) as e:
            fake.run(transfer_to=MANAGER)
        self.assertEqual((e.exception.kind, e.exception.message), (
            "internal", "more than 2000 open tasks are assigned to ada@example.com in workspace 98; refusing to go through them all",
        ))
        self.assertEqual([r.method for r in fake.requests], ["GET"] * (1 + asana.MAX_PAGES))

    def test_an_answer_that_is_not_asana_json_is_internal(self):
        user = {"data": {"gid": "501", "workspaces": [{"gid": "98", "name": "Acme Labs"}]}}
        listing = "listing the open tasks of ada@example.com in workspace 98"
        cases = [
            ([b"<html>"], "looking up ada@example.com: asana answered with something that is not JSON"),
            ([b'{"data":{"gid":"501"}}'], "looking up ada@example.com: asana's answer is not a user with `gid` and `workspaces`"),
            ([b'{"data":{"gid":"","workspaces":[]}}'], "looking up ada@example.com: asana's answer is not a user with `gid` and `workspaces`"),
            ([b'{"data":{"gid":"501","workspaces":[{"name":"x"}]}}'], "looking up ada@example.com: asana's answer is not a user with `gid` and `workspaces`"),
            ([json.dumps(user).encode(), b"[]"], f"{listing}: asana's answer is not a page of tasks (`data`, `next_page`)"),
            ([json.dumps(user).encode(), b'{"data":[{"name":"x"}],"next_page":null}'], f"{listing}: asana's answer is not a page of tasks (`data`, `next_page`)"),
            ([json.dumps(user).encode(), b'{"data":[],"next_page":{"offset":""}}'], f"{listing}: asana's answer is not a page of tasks (`data`, `next_page`)"),
            ([json.dumps(user).encode(), b'{"data":[],"next_page":"next"}'], f"{listing}: asana's answer is not a page of tasks (`data`, `next_page`)"),
            ([json.dumps(user).encode(), b"\xef\xbb\xbf{}"], f"{listing}: asana answered with something that is not JSON"),
        ]
        for bodies, message in cases:
            with self.subTest(bodies=bodies):
                replies = iter(bodies)
                call = asana.Call(lambda *request: (200, [], next(replies)), lambda *line: None, False)
                with self.assertRaises(CardFailure) as e:
                    asana.run(call, json.dumps({"user": {"id": "00u1", "email": LEAVER}, "connection": "asana"}))
                self.assertEqual((e.exception.kind, e.exception.message), ("internal", message))

    def test_host_errors_pass_through_unchanged(self):
        class HostError(Exception):
            pass

        refused = HostError("connection asana: not granted")

        def send(*request):
            raise refused

        with self.assertRaises(HostError) as e:
            asana.run(asana.Call(send, lambda *line: None, False), json.dumps({"user": {"id": "00u1", "email": LEAVER}, "connection": "asana"}))
        self.assertIs(e.exception, refused)

    def test_takes_the_email_from_an_okta_user_profile(self):
        fake = acme()
        okta_user = {"id": "00u1", "status": "ACTIVE", "profile": {"login": LEAVER, "email": LEAVER, "firstName": "Ada"}}
        inp = {"user": okta_user, "connection": "asana"}
        out = json.loads(asana.run(asana.Call(fake.send, fake.log, False), json.dumps(inp)))
        self.assertEqual((out["email"], out["asana_user_id"]), (LEAVER, "501"))

    def test_schemas_describe_every_field(self):
        self.assertEqual(sorted(asana.INPUT_SCHEMA["properties"]), ["connection", "transfer_to", "user", "workspace"])
        self.assertIs(asana.INPUT_SCHEMA["additionalProperties"], False)
        properties = asana.OUTPUT_SCHEMA["properties"]
        item = properties["workspaces"]["items"]
        for out in (acme().run(transfer_to=MANAGER), acme().run(dry_run=True), FakeAsana().run()):
            self.assertLessEqual(set(out), set(properties))
            self.assertLessEqual(set(asana.OUTPUT_SCHEMA["required"]), set(out))
            for entry in out["workspaces"]:
                self.assertEqual(set(entry), set(item["properties"]))
                self.assertEqual(set(entry), set(item["required"]))


if __name__ == "__main__":
    unittest.main()
