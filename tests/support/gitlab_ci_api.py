#!/usr/bin/env python3
"""GitLab's jobs API for sprawl's CI-log tests: HTTPS on 127.0.0.1 (certificate from the test),
answering from a JSON plan (--plan):

  {"token": "…", "project": "acme%2Fapi", "pages": [[job, …], [job, …]],
   "traces": {"JOB_ID": {"text": "…", "redirect": true?} | {"status": 410}},
   "zips": {"JOB_ID": "<base64 zip>"}}

API calls need "PRIVATE-TOKEN: <token>" (401 otherwise); pages are chained by X-Next-Page.
A trace with "redirect" answers 302 to /blob/JOB_ID (object storage), which must not receive
the token (403 if it does). Every request is appended to --log. Prints "PORT <n>".
"""

import argparse
import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    plan = json.load(open(args.plan))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, body=b"", ctype="application/json", extra=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            token = self.headers.get("PRIVATE-TOKEN")
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps({"path": self.path, "token": token is not None}) + "\n")
            path, _, query = self.path.partition("?")
            host = self.headers.get("Host")
            if path.startswith("/blob/"):
                if token is not None:
                    return self.send(403, b'{"message": "object storage got the token"}')
                return self.send(200, plan["traces"][path[6:]]["text"].encode(), "text/plain")
            if token != plan["token"]:
                return self.send(401, b'{"message": "401 Unauthorized"}')
            base = f"/api/v4/projects/{plan['project']}/jobs"
            if path == base:
                page = 1
                for kv in query.split("&"):
                    if kv.startswith("page="):
                        page = int(kv[5:])
                pages = plan["pages"]
                nxt = str(page + 1) if page < len(pages) else ""
                return self.send(200, json.dumps(pages[page - 1]).encode(), extra={"X-Next-Page": nxt})
            if path.startswith(base + "/"):
                job, _, what = path[len(base) + 1:].partition("/")
                if what == "trace":
                    spec = plan["traces"].get(job)
                    if spec is None or spec.get("status"):
                        return self.send((spec or {}).get("status", 404), b'{"message": "gone"}')
                    if spec.get("redirect"):
                        return self.send(302, extra={"Location": f"https://{host}/blob/{job}?X-Amz-Signature=x"})
                    return self.send(200, spec["text"].encode(), "text/plain")
                if what == "artifacts" and job in plan.get("zips", {}):
                    return self.send(200, base64.b64decode(plan["zips"][job]), "application/zip")
            return self.send(404, b'{"message": "404 Not Found"}')

    def do_POST(self):
        token = self.headers.get("PRIVATE-TOKEN")
        with lock:
            with open(args.log, "a") as f:
                f.write(json.dumps({"method": "POST", "path": self.path, "token": token is not None}) + "\n")
        if token != plan["token"]:
            return self.send(401, b'{"message": "401 Unauthorized"}')
        if self.path.startswith(f"/api/v4/projects/{plan['project']}/jobs/") and self.path.endswith("/erase"):
            return self.send(201, b'{"id": 0, "status": "success"}')
        return self.send(404, b'{"message": "404 Not Found"}')

    Handler.do_POST = do_POST
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
