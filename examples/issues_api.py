#!/usr/bin/env python3
"""A local API shaped like GitHub's issues endpoint, for trying http_api.

    python3 examples/issues_api.py 8089

GET /repos/{owner}/{repo}/issues?per_page=N&page=P&since=ISO-8601
  - Authorization: Bearer <token> required (any token given in TOKEN, default "demo-token")
  - records ordered by updated_at, each with a nested user and a labels array
  - paging by an RFC 8288 Link header (rel="next"), as GitHub does
  - since: only issues updated at or after it, as GitHub does
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN = os.environ.get("TOKEN", "demo-token")
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
ISSUES = [
    {
        "id": 1000 + n,
        "number": n,
        "title": f"Issue {n}",
        "state": "open" if n % 3 else "closed",
        "body": None if n % 5 == 0 else ("" if n % 7 == 0 else f"Body of issue {n}"),
        "comments": n % 4,
        "user": {"login": f"user{n % 6}", "id": n % 6},
        "labels": [{"name": "bug"}] if n % 2 else [],
        "updated_at": (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for n in range(1, 251)
]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "repos" or parts[3] != "issues":
            return self.send(404, {"message": "Not Found"})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.send(401, {"message": "Bad credentials"})
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        per_page = min(int(q.get("per_page", 30)), 100)
        page = int(q.get("page", 1))
        since = q.get("since", "")
        found = [i for i in ISSUES if i["updated_at"] >= since]
        chunk = found[(page - 1) * per_page : page * per_page]
        link = None
        if page * per_page < len(found):
            nxt = dict(q, page=str(page + 1))
            query = "&".join(f"{k}={v}" for k, v in nxt.items())
            link = f'<{url.path}?{query}>; rel="next"'
        self.send(200, chunk, link)

    def send(self, status, body, link=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8089
    print(f"issues API on http://127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
