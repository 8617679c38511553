#!/usr/bin/env python3
"""Write host/lanyard-core/data/okta-api-operations.json from Okta's
Management API spec: every operation's method, path template and the OAuth
scopes the spec lists for it. The custom API action (the WIT `okta.api-call`)
allows a call only when the card holds one of those scopes, so this table is
the whole of what it can reach.

Usage: scripts/okta-api-scopes.py [path/to/management-openapi.yaml]
(default: ../shared/okta/management-openapi.yaml, Okta's published spec,
Apache-2.0, from okta/okta-management-openapi-spec).
"""
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec_path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/okta/management-openapi.yaml"
spec = yaml.safe_load(spec_path.read_text())
default_security = spec.get("security", [])
ops = []
for path, item in spec["paths"].items():
    for method, op in item.items():
        if method not in ("get", "post", "put", "patch", "delete"):
            continue
        scopes = set()
        for requirement in op.get("security", default_security):
            scopes.update(requirement.get("oauth2", []))
        ops.append({
            "method": method.upper(),
            "path": path,
            "operation": op.get("operationId", ""),
            "scopes": sorted(scopes),
        })
ops.sort(key=lambda o: (o["path"], o["method"]))
out = {
    "source": "Okta Admin Management API, version " + spec["info"]["version"] + " (Apache-2.0)",
    "operations": ops,
}
target = ROOT / "host/lanyard-core/data/okta-api-operations.json"
target.write_text(json.dumps(out, indent=0, separators=(",", ":")) + "\n")
print(f"{len(ops)} operations -> {target.relative_to(ROOT)}")
