#!/usr/bin/env bash
# The ad-hoc commands of the module documentation, with the credentials in environment
# variables only: `ansible localhost -m dew.kms.<module> -a ...`. No `set -x`: it would print
# the secret key.
# check() evaluates its argument when it runs, so its single-quoted expressions are meant:
# shellcheck disable=SC2016
set -eu

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}

# setup_emulator sits next to this target (aliases: needs/target/setup_emulator)
ANSIBLE_ROLES_PATH=$(cd .. && pwd) ansible-playbook setup.yml -i "$INVENTORY_PATH" -e "env_file=$workdir/env.sh" "$@"
# shellcheck disable=SC1091
source "$workdir/env.sh"

adhoc() {
    # runs one ad-hoc command; its one-line output goes to $workdir/out.json
    ansible localhost -i "$INVENTORY_PATH" --one-line "$@" > "$workdir/out.json"
}

field() {
    # prints a field of the last ad-hoc result ("localhost | SUCCESS => {...}"):
    # field changed, field kms_keys.0.key_id, field kms_keys.# (length)
    "$python" -c 'import json, sys
data = json.loads(open(sys.argv[1]).read().split(" => ", 1)[1])
for name in sys.argv[2].split("."):
    data = len(data) if name == "#" else data[int(name)] if isinstance(data, list) else data.get(name, "")
print(data)' "$workdir/out.json" "$1"
}

check() {
    if ! eval "$1"; then
        echo "FAILED: $1" >&2
        cat "$workdir/out.json" >&2
        exit 1
    fi
    echo "ok: $1"
}

no_secret() {
    check '! grep -qF -- "$HW_SECRET_KEY" "$workdir/out.json"'
}

"$python" -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(32))' "$workdir/aes.bin"
chmod 0600 "$workdir/aes.bin"

adhoc -m dew.kms.kms_key -a 'alias=adhoc-rsa key_spec=RSA_2048'
check '[ "$(field changed)" = True ]'
no_secret

adhoc -m dew.kms.kms_key_info -a 'alias=adhoc-rsa'
key_id=$(field kms_keys.0.key_id)

adhoc -m dew.kms.kms_public_key -a "key_id=$key_id"
check '[ "$(field changed)" = False ]'
check '[ "$(field key_spec)" = RSA_2048 ]'
check 'field public_key_pem | grep -q "BEGIN PUBLIC KEY"'

adhoc -m dew.kms.kms_public_key -a "key_id=alias/adhoc-rsa dest=$workdir/adhoc-rsa.pem"
check '[ "$(field changed)" = True ]'
check 'grep -q "BEGIN PUBLIC KEY" "$workdir/adhoc-rsa.pem"'
adhoc -m dew.kms.kms_public_key -a "key_id=alias/adhoc-rsa dest=$workdir/adhoc-rsa.pem"
check '[ "$(field changed)" = False ]'

adhoc -m dew.kms.kms_key -a 'alias=adhoc-aes origin=external'
adhoc -m dew.kms.kms_key_material -a "key_id=alias/adhoc-aes key_material_path=$workdir/aes.bin" --check
check '[ "$(field changed)" = True ]'
adhoc -m dew.kms.kms_key_material -a "key_id=alias/adhoc-aes key_material_path=$workdir/aes.bin"
check '[ "$(field changed)" = True ]'
no_secret
adhoc -m dew.kms.kms_key_material -a "key_id=alias/adhoc-aes key_material_path=$workdir/aes.bin"
check '[ "$(field changed)" = False ]'

adhoc -m dew.kms.kms_key_info -a 'alias_pattern=adhoc-* origin=external key_state=enabled'
check '[ "$(field kms_keys.#)" = 1 ]'
check '[ "$(field kms_keys.0.alias)" = adhoc-aes ]'

if adhoc -m dew.kms.kms_public_key -a 'key_id=adhoc-rsa'; then
    echo "FAILED: a malformed key_id was accepted" >&2
    exit 1
fi
check 'field msg | grep -q "key_id is malformed"'

HW_SECRET_KEY=wrong-secret-for-adhoc adhoc -m dew.kms.kms_key_info -a 'alias=adhoc-rsa' || true
check 'field msg | grep -q "HTTP 401 APIGW.0301"'
check '! grep -qF wrong-secret-for-adhoc "$workdir/out.json"'
