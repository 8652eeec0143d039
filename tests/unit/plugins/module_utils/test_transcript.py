# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shape transcript: off by default, shapes without values, every answer of the client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

import pytest
import responses

from ansible_collections.dew.kms.plugins.module_utils import _transcript
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsNotFoundError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import IAM, KEY_ID, PROJECT_ID, kms_url

SECRETS = ('TOKEN-SECRET', 'PASSWORD-SECRET', 'bWF0ZXJpYWwtc2VjcmV0', PROJECT_ID, KEY_ID)


def read_lines(path):
    with open(str(path)) as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture
def transcript(tmp_path, monkeypatch):
    path = tmp_path / 'transcript.jsonl'
    monkeypatch.setenv(_transcript.ENV_VAR, str(path))
    return path


def test_shapes_keep_structure_and_drop_values():
    body = {'key_id': KEY_ID, 'pending_days': '7', 'total': 3, 'truncated': False, 'none': None,
            'ratio': 0.5, 'key_details': [{'key_id': KEY_ID, 'creation_date': 1700000000000},
                                          {'key_id': KEY_ID, 'creation_date': 1700000000, 'alias': 'a'}]}
    assert _transcript.shape(body) == {
        'key_id': 'str:36', 'pending_days': 'str:1', 'total': 'int:1', 'truncated': 'bool',
        'none': 'null', 'ratio': 'float',
        'key_details': ['list:2', {'key_id': 'str:36', 'creation_date': 'int:10|int:13', 'alias': 'str:1'}]}
    assert _transcript.shape([]) == ['list:0']
    assert _transcript.body_shape(b'') == 'empty'
    assert _transcript.body_shape(b'<html>oops</html>') == 'text:17'


def test_keys_and_path_parts_that_look_like_identifiers_are_hidden():
    assert list(_transcript.shape({PROJECT_ID: 'x', KEY_ID: 1, 'a b': True})) == ['<key>']
    assert _transcript.action_of('POST', kms_url('create-key')) == 'kms create-key'
    assert _transcript.action_of('GET', IAM + '/projects?name=eu-de') == 'GET /v3/projects'
    assert _transcript.action_of('GET', IAM + '/projects/%s' % PROJECT_ID) == 'GET /v3/projects/{id}'


def test_off_without_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(_transcript.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    _transcript.record('POST', kms_url('list-keys'), b'{}', 200, b'{}')
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_client_records_every_answer_without_secrets(make_client, transcript):
    responses.add(responses.POST, IAM + '/auth/tokens', status=201, headers={'X-Subject-Token': 'TOKEN-SECRET'},
                  json={'token': {'project': {'id': PROJECT_ID, 'name': 'eu-de'}}})
    responses.add(responses.POST, kms_url('import-key-material'), status=200, body=b'')
    responses.add(responses.POST, kms_url('describe-key'), status=404,
                  json={'error': {'error_code': 'KMS.0207', 'error_msg': 'Key %s does not exist' % KEY_ID}})
    client = make_client(username='u', password='PASSWORD-SECRET', domain_name='d')
    client.call('import-key-material', {'key_id': KEY_ID, 'import_token': 'bWF0ZXJpYWwtc2VjcmV0',
                                        'encrypted_key_material': 'bWF0ZXJpYWwtc2VjcmV0'}, key_id=KEY_ID)
    with pytest.raises(KmsNotFoundError):
        client.call('describe-key', {'key_id': KEY_ID}, key_id=KEY_ID)

    text = transcript.read_text()
    assert not [secret for secret in SECRETS if secret in text]
    token, imported, missing = read_lines(transcript)
    assert token['action'] == 'POST /v3/auth/tokens' and token['status'] == 201
    assert token['request']['auth']['identity']['password']['user']['password'] == 'str:15'
    assert imported == {'action': 'kms import-key-material', 'status': 200, 'error_code': None,
                        'request': {'key_id': 'str:36', 'import_token': 'str:20',
                                    'encrypted_key_material': 'str:20'}, 'answer': 'empty'}
    assert missing['error_code'] == 'KMS.0207'
    assert missing['answer'] == {'error': {'error_code': 'str:8', 'error_msg': 'str:55'}}


def test_parallel_records_are_whole_lines(transcript):
    def worker():
        for dummy in range(50):
            _transcript.record('POST', kms_url('list-keys'), b'{"limit": "1000"}', 200,
                               json.dumps({'keys': ['x' * 300] * 20}).encode())

    threads = [threading.Thread(target=worker) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = read_lines(transcript)
    assert len(lines) == 400
    assert all(line['answer'] == {'keys': ['list:20', 'str:300']} for line in lines)
