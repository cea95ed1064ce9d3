#!/usr/bin/env python3
"""A fake credential provider for sprawl's verification tests: HTTPS on 127.0.0.1 with a
certificate the test made (its CA is trusted only by the test's sprawl run).

The answer depends on which known token the request carries (in any header, the path, the query
or the body). Scenarios, from the JSON file given with --scenarios ({"token": "scenario"}):

  live          200 {"ok": true, "login": "octocat"}
  dead          401 {"ok": false, "message": "Bad credentials"}
  dead200       200 {"ok": false, "error": "invalid_auth"}   (Slack style)
  retry_after   first request 429 with Retry-After: 1, then as live
  always429     429 with Retry-After: 1, every time
  error500      500
  slow          sleeps 3 s, then as live
  html          200 text/html (a WAF page)
  redirect      302 to https://elsewhere.invalid/steal
  aws           STS GetCallerIdentity: 200 XML with <Account> if the Authorization header is
                a SigV4 signature for the access key id given as --aws-key-id, else 403

  api:NAME      a provider's API, answered from the routes of NAME in --routes (blast-radius
                tests): a JSON list of {"match": "METHOD /path", "body": "substring" (optional),
                "status": 200, "headers": {...}, "json": ... or "text": "..."}; the first route
                whose method (ANY for any), path (before the query; a trailing * matches a
                prefix; with a query, the whole target) and body substring match answers; none: 404.

Every request is appended to --log as one JSON line: method, path, host header, headers, body.
Prints "PORT <n>" once listening.
"""

import argparse
import base64
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--aws-key-id", default="")
    ap.add_argument("--default", default=None, help="scenario for requests carrying no known token")
    ap.add_argument("--routes", default=None, help="JSON routes of the api:NAME scenarios")
    args = ap.parse_args()
    scenarios = json.load(open(args.scenarios))
    routes = json.load(open(args.routes)) if args.routes else {}
    seen = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/json", extra=None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path,
                                        "host": self.headers.get("Host"),
                                        "headers": dict(self.headers.items()), "body": body}) + "\n")
            if self.path == "/token" and "assertion=" in body:
                return self.gcp_token(body)
            hay = " ".join([self.path, body] + [v for _, v in self.headers.items()])
            scenario = None
            for token, sc in scenarios.items():
                if token in hay:
                    scenario = sc
                    break
            if scenario is None:
                scenario = args.default
            if scenario is None:
                return self.answer(400, '{"error": "no known token"}')
            with lock:
                n = seen.get(scenario, 0)
                seen[scenario] = n + 1
            if scenario.startswith("api:"):
                return self.api(routes.get(scenario[4:], []), body)
            if scenario == "retry_after" and n == 0:
                return self.answer(429, '{"error": "slow down"}', extra={"Retry-After": "1"})
            if scenario == "always429":
                return self.answer(429, '{"error": "slow down"}', extra={"Retry-After": "1"})
            if scenario == "error500":
                return self.answer(500, '{"error": "boom"}')
            if scenario == "slow":
                time.sleep(3)
            if scenario == "html":
                return self.answer(200, "<!DOCTYPE html><html><body>Checking your browser</body></html>", "text/html")
            if scenario == "redirect":
                return self.answer(302, "", extra={"Location": "https://elsewhere.invalid/steal"})
            if scenario == "dead":
                return self.answer(401, '{"ok": false, "message": "Bad credentials"}')
            if scenario == "dead200":
                return self.answer(200, '{"ok": false, "error": "invalid_auth"}')
            if scenario == "aws":
                auth = self.headers.get("Authorization", "")
                ok = auth.startswith("AWS4-HMAC-SHA256 Credential=" + args.aws_key_id + "/") \
                    and "SignedHeaders=content-type;host;x-amz-date" in auth \
                    and body == "Action=GetCallerIdentity&Version=2011-06-15"
                if ok:
                    return self.answer(200, "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                                       "<Account>123456789012</Account></GetCallerIdentityResult>"
                                       "</GetCallerIdentityResponse>", "text/xml")
                return self.answer(403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                                   "</Error></ErrorResponse>", "text/xml")
            return self.answer(200, '{"ok": true, "login": "octocat"}')

        def api(self, table, body):
            for r in table:
                method, want = r["match"].split(" ", 1)
                if method not in ("ANY", self.command):
                    continue
                # A route with a query matches the whole request target, others its path.
                path = self.path if "?" in want else self.path.split("?")[0]
                if not (path == want or (want.endswith("*") and path.startswith(want[:-1]))):
                    continue
                if r.get("body") and r["body"] not in body:
                    continue
                if "json" in r:
                    text, ctype = json.dumps(r["json"]), "application/json"
                else:
                    text, ctype = r.get("text", ""), r.get("type", "text/xml")
                return self.answer(r.get("status", 200), text, ctype, r.get("headers"))
            return self.answer(404, '{"message": "Not Found"}')

        def gcp_token(self, body):
            """Google's token endpoint: a JWT-bearer grant whose claims name the service account.
            An account whose e-mail contains "revoked" answers like a deleted key."""
            from urllib.parse import parse_qs
            form = parse_qs(body)
            jwt = form.get("assertion", [""])[0].split(".")
            grant = form.get("grant_type", [""])[0]
            if len(jwt) != 3 or grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return self.answer(400, '{"error": "invalid_request"}')
            pad = lambda s: s + "=" * (-len(s) % 4)
            header = json.loads(base64.urlsafe_b64decode(pad(jwt[0])))
            claims = json.loads(base64.urlsafe_b64decode(pad(jwt[1])))
            if header.get("alg") != "RS256" or claims.get("aud") != "https://oauth2.googleapis.com/token":
                return self.answer(400, '{"error": "invalid_grant", "error_description": "Invalid JWT"}')
            if "revoked" in claims.get("iss", ""):
                return self.answer(400, '{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}')
            return self.answer(200, '{"access_token": "ya29.stand-in", "expires_in": 3599, "token_type": "Bearer"}')

        do_GET = handle_any
        do_POST = handle_any
        do_HEAD = handle_any
        do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
