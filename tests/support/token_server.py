#!/usr/bin/env python3
"""Minimal Docker registry token server for sprawl's integration tests.

Implements the "token" auth flow of the Docker registry (distribution 2.x):

    GET /token?service=SVC&scope=repository:NAME:pull,push[&scope=...]

HTTP Basic credentials must match --user/--password; those callers get every
action they asked for.  Callers without credentials get pull-only access when
--anonymous-pull is given and a 401 otherwise.  Wrong credentials are always
a 401.

Tokens are JWTs signed with the key in --key (RSA -> RS256, EC P-256 ->
ES256).  Signing shells out to the `openssl` CLI, so only the Python standard
library is needed.  The header carries the signing certificate in `x5c`,
which the registry verifies against its `rootcertbundle`; with --kid-only it
carries just a libtrust-style `kid` instead (the registry derives the same
key ids from the certificates in the bundle).

Binds 127.0.0.1, prints "PORT <n>" on stdout once listening, runs until killed.
"""

import argparse
import base64
import datetime
import hashlib
import json
import secrets
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKEN_TTL = 300
EC_PUBKEY_OID = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args: str, data: bytes = b"") -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True,
                          capture_output=True).stdout


def libtrust_kid(spki_der: bytes) -> str:
    """Key id as computed by docker/libtrust: base32 of the first 240 bits of
    sha256(SubjectPublicKeyInfo DER), in 12 colon-separated groups of 4."""
    b32 = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def der_ecdsa_to_raw(sig: bytes, size: int = 32) -> bytes:
    """openssl emits ECDSA signatures as DER SEQUENCE{r, s}; JWS wants r||s."""
    assert sig[0] == 0x30
    pos = 3 if sig[1] & 0x80 else 2  # skip SEQUENCE header (short/long length)
    out = b""
    for _ in range(2):
        assert sig[pos] == 0x02
        n = sig[pos + 1]
        out += sig[pos + 2:pos + 2 + n].lstrip(b"\0").rjust(size, b"\0")
        pos += 2 + n
    return out


class Signer:
    def __init__(self, key_path: str, cert_path: str, kid_only: bool):
        self.key_path = key_path
        spki = openssl("pkey", "-in", key_path, "-pubout", "-outform", "DER")
        self.is_ec = EC_PUBKEY_OID in spki
        self.header = {"typ": "JWT", "alg": "ES256" if self.is_ec else "RS256",
                       "kid": libtrust_kid(spki)}
        if not kid_only:
            cert_der = openssl("x509", "-in", cert_path, "-outform", "DER")
            self.header["x5c"] = [base64.b64encode(cert_der).decode()]

    def sign(self, claims: dict) -> str:
        signing_input = (b64url(json.dumps(self.header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = openssl("dgst", "-sha256", "-sign", self.key_path, data=signing_input)
        if self.is_ec:
            sig = der_ecdsa_to_raw(sig)
        return signing_input.decode() + "." + b64url(sig)


def parse_scope(scope: str):
    """'repository:demo/app:pull,push' -> ('repository', 'demo/app', [...]).
    The name is everything between the first and the last colon."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return typ, name, [a for a in actions.split(",") if a]


def make_handler(opts, signer: Signer):
    class Handler(BaseHTTPRequestHandler):
        def deny(self, msg: str):
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": msg}]}).encode()
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="sprawl-test"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def caller(self):
            """Returns the user name, '' for anonymous, None for bad creds."""
            auth = self.headers.get("Authorization", "")
            if not auth:
                return ""
            if not auth.lower().startswith("basic "):
                return None
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
            ok = (secrets.compare_digest(user, opts.user) and
                  secrets.compare_digest(pw, opts.password))
            return user if ok else None

        def do_GET(self):
            url = urlparse(self.path)
            if url.path != "/token":
                self.send_error(404)
                return
            query = parse_qs(url.query)
            user = self.caller()
            if user is None:
                return self.deny("invalid credentials")
            if user == "" and not opts.anonymous_pull:
                return self.deny("authentication required")
            service = query.get("service", [opts.service])[0]
            if service != opts.service:
                self.send_error(400, "unknown service")
                return

            access = []
            for scope in query.get("scope", []):
                for one in scope.split(" "):  # some clients join scopes with spaces
                    typ, name, actions = parse_scope(one)
                    if user == "":  # anonymous: repository pull only
                        actions = ["pull"] if typ == "repository" and "pull" in actions else []
                    if typ and name and actions:
                        access.append({"type": typ, "name": name, "actions": actions})

            now = int(time.time())
            claims = {"iss": opts.issuer, "sub": user, "aud": service,
                      "exp": now + TOKEN_TTL, "nbf": now - 1, "iat": now,
                      "jti": secrets.token_hex(16), "access": access}
            token = signer.sign(claims)
            issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            body = json.dumps({"token": token, "access_token": token,
                               "expires_in": TOKEN_TTL,
                               "issued_at": issued.isoformat().replace("+00:00", "Z")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            if not opts.quiet:
                sys.stderr.write("token_server: " + (fmt % args) + "\n")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--key", required=True, help="PEM private key (RSA or EC P-256)")
    p.add_argument("--cert", required=True, help="PEM cert for that key (in the registry's rootcertbundle)")
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--anonymous-pull", action="store_true",
                   help="callers without credentials get pull-only tokens")
    p.add_argument("--kid-only", action="store_true",
                   help="identify the key by libtrust kid instead of an x5c chain")
    p.add_argument("--quiet", action="store_true", help="no request log on stderr")
    opts = p.parse_args()

    signer = Signer(opts.key, opts.cert, opts.kid_only)
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), make_handler(opts, signer))
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
