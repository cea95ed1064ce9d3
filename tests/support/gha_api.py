#!/usr/bin/env python3
"""GitHub Actions' REST API for sprawl's CI-log tests: HTTPS on 127.0.0.1 (certificate from the
test), answering from a JSON plan (--plan):

  {"token": "…", "runs": [[page of runs], [next page], …],
   "jobs": {"RUN_ID": [job, …]},
   "logs": {"JOB_ID": {"text": "…"} | {"status": 410} | {"first": 429, "text": "…"} |
                       {"generate_mb": N, "secret": "…"}},
   "artifacts": {"RUN_ID": [{"id": N, "name": "…", "size_in_bytes": N, "expired": false}]},
   "zips": {"ARTIFACT_ID": "<base64 of the zip>"}}

API calls need "Authorization: Bearer <token>" (401 otherwise). A job's log answers 302 to
/blob/JOB_ID?sig=… on the same server (blob storage), which must NOT receive the token (403 if
it does). Every request is appended to --log (method, path, whether it carried Authorization).
Prints "PORT <n>" once listening.
"""

import argparse
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
    seen = {}
    deleted_runs = set()
    run_of = {str(j["id"]): run for run, jobs in plan["jobs"].items() for j in jobs}

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
            auth = self.headers.get("Authorization")
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps({"method": "GET", "path": self.path, "auth": auth is not None}) + "\n")
            path, _, query = self.path.partition("?")
            # GitHub Enterprise Server serves the same API under /api/v3.
            prefix = "/api/v3" if path.startswith("/api/v3/") else ""
            path = path[len(prefix):]
            host = self.headers.get("Host")
            if path.startswith("/blob/"):
                if auth is not None:
                    return self.send(403, b'{"message": "blob storage got an Authorization header"}')
                return self.blob(path[len("/blob/"):])
            if auth != "Bearer " + plan["token"]:
                return self.send(401, b'{"message": "Bad credentials"}')
            # A renamed repository: its old name answers 301 to /repositories/ID/… .
            moved = plan.get("moved")
            if moved and path.startswith(f"/repos/{moved['from']}/"):
                rest = path[len(f"/repos/{moved['from']}/"):]
                where = f"https://{host}{prefix}/repositories/{moved['id']}/{rest}" + (f"?{query}" if query else "")
                return self.send(301, b'{"message": "Moved Permanently"}', extra={"Location": where})
            if moved and path.startswith(f"/repositories/{moved['id']}/"):
                path = f"/repos/{moved['to']}/" + path[len(f"/repositories/{moved['id']}/"):]
            parts = path.strip("/").split("/")
            # /repos/O/R/actions/runs
            if parts[4:] == ["runs"]:
                page = 1
                for kv in query.split("&"):
                    if kv.startswith("page="):
                        page = int(kv[5:])
                pages = plan["runs"]
                body = {"total_count": sum(len(p) for p in pages), "workflow_runs": pages[page - 1]}
                extra = {}
                if page < len(pages):
                    extra["Link"] = f'<https://{host}{prefix}/{"/".join(parts)}?per_page=100&page={page + 1}>; rel="next"'
                return self.send(200, json.dumps(body).encode(), extra=extra)
            # /repos/O/R/actions/runs/ID/artifacts
            if len(parts) == 7 and parts[4] == "runs" and parts[6] == "artifacts":
                arts = plan.get("artifacts", {}).get(parts[5], [])
                return self.send(200, json.dumps({"total_count": len(arts), "artifacts": arts}).encode())
            # /repos/O/R/actions/artifacts/ID/zip
            if len(parts) == 7 and parts[4] == "artifacts" and parts[6] == "zip":
                return self.send(302, extra={"Location": f"https://{host}/blob/art-{parts[5]}?sig=signed"})
            # /repos/O/R/actions/runs/ID/jobs
            if len(parts) == 7 and parts[4] == "runs" and parts[6] == "jobs":
                jobs = plan["jobs"].get(parts[5], [])
                # GitHub lists the latest attempt's jobs unless asked for all of them.
                if "filter=all" not in query.split("&"):
                    latest = max((j.get("run_attempt", 1) for j in jobs), default=1)
                    jobs = [j for j in jobs if j.get("run_attempt", 1) == latest]
                return self.send(200, json.dumps({"total_count": len(jobs), "jobs": jobs}).encode())
            # /repos/O/R/actions/jobs/ID/logs
            if len(parts) == 7 and parts[4] == "jobs" and parts[6] == "logs":
                job = parts[5]
                if run_of.get(job) in deleted_runs:
                    return self.send(410, b'{"message": "Gone"}')
                spec = plan["logs"].get(job)
                if spec is None:
                    return self.send(404, b'{"message": "Not Found"}')
                if spec.get("status"):
                    return self.send(spec["status"], b'{"message": "Gone"}')
                with lock:
                    n = seen.get(job, 0)
                    seen[job] = n + 1
                if spec.get("first") and n == 0:
                    return self.send(spec["first"], b'{"message": "slow down"}', extra={"Retry-After": "1"})
                return self.send(302, extra={"Location": f"https://{host}/blob/{job}?sig=signed-{job}"})
            return self.send(404, b'{"message": "Not Found"}')

        def do_DELETE(self):
            auth = self.headers.get("Authorization")
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps({"method": "DELETE", "path": self.path, "auth": auth is not None}) + "\n")
            if auth != "Bearer " + plan["token"]:
                return self.send(401, b'{"message": "Bad credentials"}')
            path = self.path[len("/api/v3"):] if self.path.startswith("/api/v3/") else self.path
            parts = path.strip("/").split("/")
            if len(parts) == 7 and parts[4] == "runs" and parts[6] == "logs":
                deleted_runs.add(parts[5])
                return self.send(204)
            if len(parts) == 6 and parts[4] == "artifacts":
                return self.send(204)
            return self.send(404, b'{"message": "Not Found"}')

        def blob(self, job):
            if job.startswith("art-"):
                import base64
                data = base64.b64decode(plan["zips"][job[4:]])
                return self.send(200, data, "application/zip")
            spec = plan["logs"][job]
            if "generate_mb" in spec:
                line = b"2026-10-02T10:00:01.0000000Z \x1b[32mcompiling module 0123456789 ... ok\x1b[0m\n"
                total = spec["generate_mb"] << 20
                tail = f"2026-10-02T10:09:59.0000000Z export GITHUB_TOKEN={spec['secret']}\n".encode()
                count = total // len(line)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(count * len(line) + len(tail)))
                self.end_headers()
                chunk = line * 4096
                left = count
                while left > 0:
                    k = min(left, 4096)
                    self.wfile.write(chunk if k == 4096 else line * k)
                    left -= k
                self.wfile.write(tail)
                return
            return self.send(200, spec["text"].encode(), "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
