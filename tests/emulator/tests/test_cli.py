"""Command line: the JSON line, options, self-termination and a request log without secrets."""

import json
import os
import socket
import subprocess
import sys
import time

import requests

from conftest import EMULATOR_DIR, Emulator, assert_error

FIELDS = ("kms_endpoint", "iam_endpoint", "project_id", "project_name", "domain_name",
          "username", "password", "access_key", "secret_key", "region", "pid", "admin_url")
PROJECT_FIELDS = ("project_id", "project_name", "domain_id", "domain_name", "username",
                  "password", "access_key", "secret_key")


def test_json_line_describes_endpoints_and_every_project(emulator):
    info = emulator.info
    for field in FIELDS:
        assert info[field], field
    assert (info["region"], info["cloud"]) == ("eu-de", "otc")
    assert info["kms_endpoint"].startswith("http://127.0.0.1:")
    assert info["iam_endpoint"] == info["kms_endpoint"] + "/v3"
    assert info["admin_url"] == info["kms_endpoint"] + "/__emulator"
    assert info["pid"] == emulator.process.pid
    assert "ca_file" not in info
    projects = info["projects"]
    assert len(projects) == 2
    assert {field: info[field] for field in PROJECT_FIELDS} == \
        {field: projects[0][field] for field in PROJECT_FIELDS}
    for field in PROJECT_FIELDS:
        assert projects[0][field] != projects[1][field], field
    assert len(info["project_id"]) == 32 and len(info["access_key"]) == 20


def test_projects_option_and_fixed_port(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = Emulator(tmp_path, "--projects", "3", "--port", str(port)).start()
    try:
        assert process.info["kms_endpoint"] == "http://127.0.0.1:%d" % port
        assert len(process.info["projects"]) == 3
        assert len({p["project_id"] for p in process.info["projects"]}) == 3
        assert process.client(2).ok("list-keys")["total"] == 0
    finally:
        process.stop()


def test_exit_after_stops_the_emulator_by_itself(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_DIR))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "kms_emulator", "--exit-after", "1",
                             "--log-file", str(tmp_path / "log")], env=env, timeout=30,
                            check=False,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert result.returncode == 0
    assert 1 <= time.monotonic() - started < 10
    assert len(result.stdout.decode().splitlines()) == 1
    json.loads(result.stdout)


def test_exit_when_idle_waits_for_silence(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_DIR))
    process = subprocess.Popen([sys.executable, "-m", "kms_emulator", "--exit-when-idle", "2",
                                "--log-file", str(tmp_path / "log")], env=env,
                               stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        info = json.loads(process.stdout.readline())
        busy_until = time.monotonic() + 4
        while time.monotonic() < busy_until:  # requests keep it alive past its idle limit
            assert requests.get(info["admin_url"] + "/health", timeout=5).ok
            time.sleep(0.5)
        assert process.poll() is None
        silent_since = time.monotonic()
        assert process.wait(timeout=30) == 0
        assert 1 <= time.monotonic() - silent_since < 10
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()


def test_sigterm_stops_the_emulator_cleanly(tmp_path):
    process = Emulator(tmp_path).start()
    process.stop()
    assert process.process.returncode == 0


def test_invalid_options_are_refused():
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_DIR))
    for args in (["--fail-rate", "2"], ["--projects", "1"], ["--port", "-1"],
                 ["--cloud", "aws"], ["--activation-delay", "-1"],
                 ["--activation-delay", "nan"], ["--key-quota", "-1"]):
        result = subprocess.run([sys.executable, "-m", "kms_emulator"] + args, env=env,
                                capture_output=True, timeout=30, check=False)
        assert result.returncode == 2, args
        assert result.stdout == b""


def test_huawei_cloud_json_line(huawei_emulator):
    info = huawei_emulator.info
    assert (info["cloud"], info["region"], info["project_name"]) == \
        ("huaweicloud", "cn-north-4", "cn-north-4")


def test_a_state_file_keeps_its_cloud(tmp_path):
    state_file = str(tmp_path / "state.sqlite")
    Emulator(tmp_path / "first", "--cloud", "huaweicloud", state_file=state_file).start().stop()
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_DIR))
    result = subprocess.run([sys.executable, "-m", "kms_emulator", "--state-file", state_file,
                             "--log-file", str(tmp_path / "log")], env=env,
                            capture_output=True, timeout=30, check=False)
    assert result.returncode == 1 and result.stdout == b""
    assert b"belongs to --cloud huaweicloud, not otc" in result.stderr


def test_request_log_has_one_line_per_request_and_no_secrets(fresh_emulator):
    emulator = fresh_emulator()
    client = emulator.client()
    aksk = emulator.client(auth="aksk")
    key_id = client.create_key(origin="external")
    response = client.import_symmetric(key_id, os.urandom(32))
    assert response.ok
    cipher = aksk.ok("encrypt-data", {"key_id": key_id, "plain_text": "log-secret-text"})
    assert_error(requests.post(client.url("describe-key"), json={"key_id": key_id}),
                 403, "KMS.0301")
    other = client.create_key(origin="external")
    params_token = client.import_parameters(other)["import_token"]
    emulator.stop()
    with open(emulator.log_file) as handle:
        log = handle.read()
    request_lines = [line for line in log.splitlines() if " action=" in line]
    assert any("action=import-key-material status=200" in line for line in request_lines)
    assert any("action=describe-key status=403 code=KMS.0301" in line for line in request_lines)
    assert all("duration_ms=" in line and "request_id=" in line for line in request_lines)
    project = emulator.project(0)
    secrets = [project["password"], project["secret_key"], client.token, params_token,
               cipher["cipher_text"], "log-secret-text", "Signature="]
    for secret in secrets:
        assert secret not in log
