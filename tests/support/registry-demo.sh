#!/usr/bin/env bash
# End-to-end demo of the registry harness used by sprawl's integration tests:
#   * docker-registry (distribution 2.8) with bearer-token auth from token_server.py
#   * a second docker-registry without auth
#   * a hand-made OCI image layout pushed to both with skopeo
#   * anonymous pull via the 401 -> token -> 200 dance with curl
# Needs: docker-registry, skopeo, openssl, python3, curl. Everything lives in a
# tempdir that is removed, with all started processes, on exit.
# Set KID_ONLY=1 to make the token server identify its key by kid instead of x5c.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so a signal still runs cleanup
say() { printf '\n== %s\n' "$*"; }
START=$(date +%s.%N)

USER_NAME=alice PASSWORD=s3cret ISSUER=sprawl-test SERVICE=sprawl-registry

# A free TCP port on 127.0.0.1 (the registry cannot report the port it bound).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Poll GET /v2/ until the registry answers with the expected status.
wait_registry() { # PORT STATUS LOG
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/")" = "$2" ] && return 0
    sleep 0.1
  done
  echo "registry on port $1 did not come up" >&2; cat "$3" >&2; exit 1
}

say "token signing key + self-signed cert"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ISSUER" \
  -keyout "$WORK/token.key" -out "$WORK/token.crt" 2>/dev/null
openssl x509 -in "$WORK/token.crt" -noout -subject

say "token server"
mkfifo "$WORK/ts.out"
python3 "$HERE/token_server.py" --port 0 --key "$WORK/token.key" --cert "$WORK/token.crt" \
  --issuer "$ISSUER" --service "$SERVICE" --user "$USER_NAME" --password "$PASSWORD" \
  --anonymous-pull ${KID_ONLY:+--kid-only} >"$WORK/ts.out" 2>"$WORK/ts.log" &
PIDS+=($!)
read -r _ TOKEN_PORT <"$WORK/ts.out" || true  # first line is "PORT <n>"
[ -n "$TOKEN_PORT" ] || { cat "$WORK/ts.log" >&2; exit 1; }
REALM="http://127.0.0.1:$TOKEN_PORT/token"
echo "listening: $REALM"

# Registry config: filesystem storage in the tempdir; $1 = name, $2 = port,
# $3 = "token" for bearer auth, anything else for none.
write_config() {
  cat <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/$1-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
  secret: sprawl-test-secret
EOF
  [ "$3" = token ] && cat <<EOF
auth:
  token:
    realm: $REALM
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $WORK/token.crt
EOF
  true
}

say "registry with token auth"
AUTH_PORT=$(free_port)
write_config auth "$AUTH_PORT" token >"$WORK/auth.yml"
cat "$WORK/auth.yml"
docker-registry serve "$WORK/auth.yml" >"$WORK/auth.log" 2>&1 &
PIDS+=($!)

say "registry without auth"
ANON_PORT=$(free_port)
write_config anon "$ANON_PORT" none >"$WORK/anon.yml"
docker-registry serve "$WORK/anon.yml" >"$WORK/anon.log" 2>&1 &
PIDS+=($!)

wait_registry "$AUTH_PORT" 401 "$WORK/auth.log"
wait_registry "$ANON_PORT" 200 "$WORK/anon.log"
echo "both up: auth=127.0.0.1:$AUTH_PORT (GET /v2/ -> 401) anon=127.0.0.1:$ANON_PORT (-> 200)"

say "OCI image layout (one layer, one file)"
python3 - "$WORK/oci" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256")
def blob(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return "sha256:" + digest
def desc(media_type, data):
    return {"mediaType": media_type, "digest": blob(data), "size": len(data)}
# Layer: a tar with one file, fixed mtimes so digests are reproducible.
content = b"hello from the sprawl registry demo\n"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
    info = tarfile.TarInfo("app/hello.txt")
    info.size, info.mode, info.mtime = len(content), 0o644, 0
    tar.addfile(info, io.BytesIO(content))
tar_bytes = buf.getvalue()
layer = gzip.compress(tar_bytes, mtime=0)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]}}).encode()
manifest = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": desc("application/vnd.oci.image.config.v1+json", config),
    "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", layer)]}).encode()
mdesc = desc("application/vnd.oci.image.manifest.v1+json", manifest)
mdesc["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
json.dump({"schemaVersion": 2, "manifests": [mdesc]}, open(f"{root}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{root}/oci-layout", "w"))
print("manifest", mdesc["digest"])
PY

say "push with skopeo (creds) to the token-auth registry"
skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds "$USER_NAME:$PASSWORD" \
  "oci:$WORK/oci:v1" "docker://127.0.0.1:$AUTH_PORT/demo/app:v1"
echo "pushed demo/app:v1"

say "push with skopeo (no creds) to the anonymous registry"
skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-no-creds \
  "oci:$WORK/oci:v1" "docker://127.0.0.1:$ANON_PORT/demo/app:v1"
curl -sf "http://127.0.0.1:$ANON_PORT/v2/demo/app/tags/list"; echo

say "anonymous manifest fetch: 401 -> token -> 200"
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
MURL="http://127.0.0.1:$AUTH_PORT/v2/demo/app/manifests/v1"
CHALLENGE=$(curl -s -o /dev/null -D - -H "$ACCEPT" "$MURL" | tr -d '\r' | grep -i '^www-authenticate:')
echo "$CHALLENGE"
# Bearer realm="...",service="...",scope="..." -> query string for the realm
param() { sed -n "s/.*$1=\"\([^\"]*\)\".*/\1/p" <<<"$CHALLENGE"; }
TOKEN=$(curl -sf -G "$(param realm)" --data-urlencode "service=$(param service)" \
  --data-urlencode "scope=$(param scope)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
python3 -c 'import base64,json,sys; h,c,_=(p+"==" for p in sys.argv[1].split(".")); d=lambda x: json.loads(base64.urlsafe_b64decode(x))
print("token header keys:", sorted(d(h))); print("token claims:", json.dumps(d(c)))' "$TOKEN"
curl -sf -H "$ACCEPT" -H "Authorization: Bearer $TOKEN" "$MURL" -o "$WORK/manifest.json" \
  -w 'manifest GET with token -> %{http_code} %{content_type}\n'

say "an anonymous token must not allow push"
PUSH=$(curl -s -G "$REALM" --data-urlencode "service=$SERVICE" \
  --data-urlencode "scope=repository:demo/app:pull,push" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "blob upload POST with anonymous token -> $(curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $PUSH" "http://127.0.0.1:$AUTH_PORT/v2/demo/app/blobs/uploads/")"

say "wrong password is refused by the token server"
echo "token GET as $USER_NAME:wrong -> $(curl -s -o /dev/null -w '%{http_code}' -u "$USER_NAME:wrong" \
  "$REALM?service=$SERVICE&scope=repository:demo/app:pull")"

say "done in $(python3 -c "print(round($(date +%s.%N) - $START, 1))")s"
