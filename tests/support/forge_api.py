#!/usr/bin/env python3
"""Plays the GitHub and GitLab REST APIs for sprawl's audit tests, on 127.0.0.1 over HTTP.

  GET /orgs/<org>/repos                 GitHub: one repository per page, Link rel="next";
                                        the very first request is rate limited (403,
                                        x-ratelimit-remaining: 0, x-ratelimit-reset: now+1).
  GET /api/v4/groups/<group>/projects   GitLab: one project per page, x-next-page.

Auth: GitHub wants "Authorization: Bearer <token>", GitLab "PRIVATE-TOKEN: <token>"; anything
else is a 401. Repositories come from --repos (JSON: {"github": [url...], "gitlab": [url...]}).
Prints "PORT <n>" once listening.
"""
import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ap = argparse.ArgumentParser()
ap.add_argument("--repos", required=True)
ap.add_argument("--token", required=True)
args = ap.parse_args()
repos = json.load(open(args.repos))
state = {"limited": False}


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        page = int(q.get("page", ["1"])[0])
        if u.path.startswith("/orgs/"):
            if self.headers.get("Authorization") != "Bearer " + args.token:
                return self.send(401, {"message": "Bad credentials"})
            if not state["limited"]:
                state["limited"] = True
                return self.send(403, {"message": "API rate limit exceeded"},
                                 {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 1)})
            items = repos["github"][page - 1:page]
            headers = {}
            if page < len(repos["github"]):
                headers["Link"] = '<http://%s%s?per_page=100&page=%d>; rel="next"' % (
                    self.headers.get("Host"), u.path, page + 1)
            return self.send(200, [{"clone_url": r} for r in items], headers)
        if u.path.startswith("/api/v4/groups/"):
            if self.headers.get("PRIVATE-TOKEN") != args.token:
                return self.send(401, {"message": "401 Unauthorized"})
            items = repos["gitlab"][page - 1:page]
            headers = {"x-next-page": str(page + 1) if page < len(repos["gitlab"]) else ""}
            return self.send(200, [{"http_url_to_repo": r} for r in items], headers)
        self.send(404, {"message": "Not Found"})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("PORT %d" % srv.server_address[1], flush=True)
srv.serve_forever()
