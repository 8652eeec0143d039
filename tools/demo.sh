#!/usr/bin/env bash
# `make demo`: the collection at work against the local KMS emulator, from a fresh clone.
#
#   tools/demo.sh [VENV]      VENV: a virtualenv with ansible-core, requests and cryptography
#                             (default .venv/core-2.21, which `make demo` creates first)
#
# 1. builds the collection and installs the built artefact into a temporary collections path;
# 2. starts the emulator on a free loopback port (it stops by itself after 10 minutes at most);
# 3. generates demo key material (two AES-256 keys, one RSA-2048 private key) into 0600 files;
# 4. runs the playbook dew.kms.byok_demo with the emulator's credentials in the environment;
# 5. stops the emulator and removes every temporary file, also on failure or Ctrl-C.
# Exits non-zero if any step failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${1:-$root/.venv/core-2.21}
python=$venv/bin/python
[ -x "$python" ] || { echo "demo: no virtualenv at $venv (run: make demo)" >&2; exit 1; }

started=$("$python" -c 'import time; print(time.time())')
work=$(mktemp -d "${TMPDIR:-/tmp}/dew-kms-demo.XXXXXX")
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # leave through the EXIT trap
umask 077
step() { printf '\n== %s\n' "$*"; }

step "Building the collection and installing the built artefact"
"$venv/bin/ansible-galaxy" collection build "$root" --output-path "$work/dist" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work/collections" "$venv/bin/ansible-galaxy" collection install \
  "$work"/dist/dew-kms-*.tar.gz --collections-path "$work/collections" --force >/dev/null
echo "installed $(basename "$work"/dist/dew-kms-*.tar.gz) into a temporary collections path"

step "Starting the KMS emulator on a free loopback port"
(cd "$root" && PYTHONPATH=tests/emulator exec "$python" -m kms_emulator --port 0 --exit-after 600 \
  >"$work/emulator.json" 2>"$work/emulator.log") &
emulator_pid=$!
for _ in $(seq 100); do
  [ -s "$work/emulator.json" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; echo "demo: the emulator did not start" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/emulator.json" ] || { echo "demo: the emulator did not report its endpoints" >&2; exit 1; }

# Credentials from the emulator's JSON line; other auth settings of the caller must not interfere
# (a token or AK/SK in the environment would win over the password).
unset HW_AUTH_TOKEN OS_AUTH_TOKEN HW_ACCESS_KEY HW_SECRET_KEY HW_SECURITY_TOKEN OS_ACCESS_KEY \
  OS_SECRET_KEY OS_SECURITY_TOKEN OS_CLOUD HW_PROJECT_ID OS_PROJECT_ID OS_DOMAIN_NAME \
  OS_REGION_NAME HW_IAM_ENDPOINT HW_CLOUD_PROVIDER
eval "$("$python" - "$work/emulator.json" <<'PY'
import json, shlex, sys
with open(sys.argv[1]) as handle:
    emulator = json.loads(handle.readline())
for name, field in (('HW_KMS_ENDPOINT', 'kms_endpoint'), ('OS_AUTH_URL', 'iam_endpoint'),
                    ('HW_REGION_NAME', 'region'), ('OS_USERNAME', 'username'),
                    ('OS_PASSWORD', 'password'), ('OS_USER_DOMAIN_NAME', 'domain_name'),
                    ('OS_PROJECT_NAME', 'project_name')):
    print('export %s=%s' % (name, shlex.quote(str(emulator[field]))))
PY
)"
echo "emulator at $HW_KMS_ENDPOINT (user $OS_USERNAME, project $OS_PROJECT_NAME)"

step "Generating demo key material into private temporary files"
export BYOK_DEMO_MATERIAL_DIR=$work/material
mkdir -m 700 "$BYOK_DEMO_MATERIAL_DIR"
"$python" - "$BYOK_DEMO_MATERIAL_DIR" <<'PY'
import os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

def write(name, data):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)

write('aes-1.bin', os.urandom(32))
write('aes-2.bin', os.urandom(32))
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
write('rsa-2048.pem', key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
PY
find "$BYOK_DEMO_MATERIAL_DIR" -type f -printf '%M %s bytes  %p\n' | sort -k4

step "Running ansible-playbook dew.kms.byok_demo"
cat >"$work/inventory.yml" <<'YAML'
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
YAML
printf '[defaults]\nretry_files_enabled = false\n' >"$work/ansible.cfg"   # the user's config stays out
cd "$work"
ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections" \
  ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  "$venv/bin/ansible-playbook" -i "$work/inventory.yml" dew.kms.byok_demo

"$python" -c 'import sys, time; print("\ndemo: passed in %.1f s (emulator stopped and temporary files '\
'removed on exit)." % (time.time() - float(sys.argv[1])))' "$started"
