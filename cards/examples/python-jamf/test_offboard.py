"""Tests of the card's logic under plain CPython, with a fake JAMF Pro API in
place of the host's `http` import. Run with `python3 -m unittest` (or pytest).
The built component is exercised end to end by the repository's e2e tests.
"""

import json
import unittest
from urllib.parse import parse_qs, unquote, urlsplit

import offboard
from offboard import CardFailure


class FakeJamf:
    """Just enough of JAMF Pro's computers-inventory and MDM command API."""

    def __init__(self, computers=None, fail_with=None):
        # email -> list of inventory records
        self.computers = computers or {}
        self.fail_with = fail_with
        self.requests = []
        self.logs = []

    def send(self, method, url, headers, body, connection, timeout_ms):
        self.requests.append((method, url, dict(headers), body, connection))
        if self.fail_with:
            return self.fail_with, [("Retry-After", "2")], b'{"httpStatus":0,"errors":[{"code":"X","description":"injected"}]}'
        parts = urlsplit(url)
        if method == "GET" and parts.path == "/api/v1/computers-inventory":
            query = parse_qs(parts.query)
            rsql = query["filter"][0]
            email = rsql.removeprefix('userAndLocation.email=="').removesuffix('"')
            page, size = int(query["page"][0]), int(query["page-size"][0])
            found = self.computers.get(email, [])
            doc = {"totalCount": len(found), "results": found[page * size:(page + 1) * size]}
            return 200, [("content-type", "application/json")], json.dumps(doc).encode()
        if method == "POST" and parts.path == "/api/v2/mdm/commands":
            command = json.loads(body)
            mid = command["clientData"][0]["managementId"]
            return 201, [], json.dumps([{"id": f"cmd-{mid}", "href": f"/api/v2/mdm/commands/cmd-{mid}"}]).encode()
        return 404, [], b'{"httpStatus":404,"errors":[{"code":"NOT_FOUND","description":"no route"}]}'

    def log(self, level, message, fields):
        self.logs.append((level, message, fields))

    def call(self, dry_run=False):
        return offboard.Call(self.send, self.log, "run1/jamf/1", dry_run)


def computer(id, name, mid="mid", serial="C02"):
    return {
        "id": id,
        "general": {"name": name, "managementId": mid and f"{mid}-{id}", "lastContactTime": "2026-01-02T03:04:05Z"},
        "hardware": {"serialNumber": f"{serial}{id}"},
    }


def request(**extra):
    return json.dumps({"user": {"id": "00u1", "email": "ada@example.com"}, "connection": "jamf", **extra})


class OffboardTest(unittest.TestCase):
    def test_locks_every_computer_of_the_leaver(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook"), computer("23", "Ada's mini")]})
        out = json.loads(offboard.run(jamf.call(), request(pin="123456", message="Return to IT")))
        self.assertEqual([d["id"] for d in out["devices"]], ["17", "23"])
        self.assertEqual(out["actions"], [
            {"device_id": "17", "command": "DEVICE_LOCK", "command_id": "cmd-mid-17", "status": "sent"},
            {"device_id": "23", "command": "DEVICE_LOCK", "command_id": "cmd-mid-23", "status": "sent"},
        ])
        self.assertEqual(out["sent"], 2)
        self.assertNotIn("pin", out)
        search, *posts = jamf.requests
        self.assertEqual(search[0], "GET")
        self.assertEqual(unquote(search[1]).count('userAndLocation.email=="ada@example.com"'), 1)
        for method, url, headers, body, connection in jamf.requests:
            self.assertEqual(connection, "jamf")
            self.assertNotIn("authorization", {k.lower() for k in headers})
        self.assertEqual([p[2]["idempotency-key"] for p in posts], ["run1/jamf/1/17", "run1/jamf/1/23"])
        command = json.loads(posts[0][3])["commandData"]
        self.assertEqual(command, {"commandType": "DEVICE_LOCK", "pin": "123456", "message": "Return to IT"})
        self.assertIn("2 computer(s)", jamf.logs[0][1])

    def test_generates_and_reports_a_pin_when_none_is_given(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook")]})
        out = json.loads(offboard.run(jamf.call(), request(action="erase")))
        self.assertRegex(out["pin"], r"^[0-9]{6}$")
        command = json.loads(jamf.requests[1][3])["commandData"]
        self.assertEqual(command["commandType"], "ERASE_DEVICE")
        self.assertEqual(command["pin"], out["pin"])

    def test_report_only_sends_no_command(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook")]})
        out = json.loads(offboard.run(jamf.call(), request(action="report")))
        self.assertEqual(len(out["devices"]), 1)
        self.assertEqual(out["actions"], [])
        self.assertEqual([r[0] for r in jamf.requests], ["GET"])

    def test_dry_run_plans_without_sending(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook")]})
        out = json.loads(offboard.run(jamf.call(dry_run=True), request(pin="123456")))
        self.assertEqual(out["actions"][0]["status"], "planned")
        self.assertEqual([r[0] for r in jamf.requests], ["GET"])

    def test_unmanaged_computers_are_skipped(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook", mid=None)]})
        out = json.loads(offboard.run(jamf.call(), request(pin="123456")))
        self.assertEqual(out["actions"][0]["status"], "skipped")
        self.assertEqual(jamf.logs[-1][0], "warn")

    def test_a_leaver_without_computers_is_not_an_error(self):
        jamf = FakeJamf()
        out = json.loads(offboard.run(jamf.call(), request()))
        self.assertEqual(out, {"email": "ada@example.com", "devices": [], "actions": [], "sent": 0})

    def test_pages_through_the_inventory(self):
        many = [computer(str(i), f"mac {i}") for i in range(offboard.PAGE_SIZE + 5)]
        jamf = FakeJamf({"ada@example.com": many})
        out = json.loads(offboard.run(jamf.call(), request(action="report")))
        self.assertEqual(len(out["devices"]), offboard.PAGE_SIZE + 5)
        self.assertEqual(sum(1 for r in jamf.requests if r[0] == "GET"), 2)

    def test_refuses_an_unbounded_inventory(self):
        many = [computer(str(i), f"mac {i}") for i in range(offboard.PAGE_SIZE * offboard.MAX_PAGES + 1)]
        jamf = FakeJamf({"ada@example.com": many})
        with self.assertRaises(CardFailure) as e:
            offboard.run(jamf.call(), request())
        self.assertEqual(e.exception.kind, "internal")
        self.assertEqual([r[0] for r in jamf.requests], ["GET"] * offboard.MAX_PAGES)

    def test_remote_failures_map_to_card_error_kinds(self):
        cases = {
            404: ("not-found", False, None),
            401: ("denied", False, None),
            403: ("denied", False, None),
            409: ("conflict", False, None),
            429: ("rate-limited", True, 2000),
            500: ("unavailable", True, None),
            503: ("unavailable", True, None),
            504: ("timeout", True, None),
            400: ("invalid-input", False, None),
            418: ("internal", False, None),
        }
        for status, (kind, retryable, after) in cases.items():
            with self.subTest(status=status):
                with self.assertRaises(CardFailure) as e:
                    offboard.run(FakeJamf(fail_with=status).call(), request())
                self.assertEqual((e.exception.kind, e.exception.retryable, e.exception.retry_after_ms), (kind, retryable, after))
                self.assertIn(f"jamf answered {status} (injected)", e.exception.message)

    def test_bad_input_names_the_field(self):
        cases = [
            ("not json", "not JSON"),
            ("[]", "JSON object"),
            ('{"connection":"jamf"}', "`user`"),
            ('{"user":{"email":"a@b.c"},"connection":"jamf"}', "`user.id`"),
            ('{"user":{"id":"1","email":"nope"},"connection":"jamf"}', "`user.email`"),
            ('{"user":{"id":"1","email":"a\\"b@c.d"},"connection":"jamf"}', "`user.email`"),
            ('{"user":{"id":"1","email":"a@b.c"}}', "`connection`"),
            ('{"user":{"id":"1","email":"a@b.c"},"connection":"jamf","action":"nuke"}', "`action`"),
            ('{"user":{"id":"1","email":"a@b.c"},"connection":"jamf","pin":"12"}', "`pin`"),
            ('{"user":{"id":"1","email":"a@b.c"},"connection":"jamf","extra":1}', "unknown input field"),
        ]
        for text, needle in cases:
            with self.subTest(text=text):
                with self.assertRaises(CardFailure) as e:
                    offboard.run(FakeJamf().call(), text)
                self.assertEqual(e.exception.kind, "invalid-input")
                self.assertIn(needle, e.exception.message)

    def test_takes_the_email_from_an_okta_user_profile(self):
        jamf = FakeJamf({"ada@example.com": [computer("17", "Ada's MacBook")]})
        text = json.dumps({"user": {"id": "00u1", "profile": {"email": "ada@example.com"}}, "connection": "jamf", "action": "report"})
        self.assertEqual(len(json.loads(offboard.run(jamf.call(), text))["devices"]), 1)

    def test_schemas_describe_every_input_field(self):
        self.assertEqual(offboard.INPUT_SCHEMA["type"], "object")
        self.assertEqual(sorted(offboard.INPUT_SCHEMA["properties"]), ["action", "connection", "message", "pin", "user"])
        json.dumps(offboard.OUTPUT_SCHEMA)


if __name__ == "__main__":
    unittest.main()
