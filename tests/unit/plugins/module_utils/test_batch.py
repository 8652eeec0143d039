# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The batch engine's phases in isolation; whole runs through kms_byok are in test_kms_byok.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import time

import pytest

from ansible_collections.dew.kms.plugins.module_utils import _batch
from ansible_collections.dew.kms.plugins.module_utils._errors import KmsError, KmsInputError
from ansible_collections.dew.kms.tests.unit.plugins.module_utils.helpers import KEY_ID

AES_B64 = base64.b64encode(os.urandom(32)).decode()


def entry_params(**params):
    base = dict(alias=None, key_id=None, key_spec='AES_256', key_usage=None, key_material=None,
                key_material_path=None, expiration_time=None, description=None)
    base.update(params)
    return base


class FakeConfig:
    cloud_provider = 'otc'


class FakeClient:
    """Only the configuration: the phases tested here make no call."""

    config = FakeConfig()


class FakeKm:
    """What the engine uses of a KmsModule: params, check_mode, diff_mode, warn, client."""

    def __init__(self, keys, **params):
        self.params = dict(keys=keys, wrapping_algorithm='RSAES_OAEP_SHA_256', create_missing=True,
                           verify=True, max_workers=4, phase='all', expiry_warning_days=30, report_path=None)
        self.params.update(params)
        self.check_mode = False
        self.diff_mode = True
        self.warnings = []
        self.client = FakeClient()
        self.wait_timeout = 60

    def warn(self, msg):
        self.warnings.append(msg)

    def now(self):
        return time.time()


def test_repeated_aliases_and_ids_fail_the_later_entries():
    batch = _batch.Batch(FakeKm([entry_params(alias='a'), entry_params(alias='a'), entry_params(key_id=KEY_ID),
                                 entry_params(key_id=KEY_ID)]))
    batch.reject_repeated(lambda e: ('alias', e.alias) if e.alias else ('key_id', e.key_id))
    errors = [entry.error and entry.error.msg for entry in batch.entries]
    assert errors[0] is None and errors[2] is None
    assert errors[1] == 'keys[1] names the same alias a as keys[0] (a): give each key only once.'
    assert errors[3] == 'keys[3] names the same key_id %s as keys[2] (%s): give each key only once.' % (KEY_ID, KEY_ID)


def test_run_checks_the_phase_options_before_anything_else():
    # the engine checks them itself: the module and the controller-side action plugin both run it
    km = FakeKm([entry_params(alias='a')], phase='import', wrapped_path=None, renew_within_days=0)
    km.client = None  # no client is touched either
    with pytest.raises(KmsInputError) as info:
        _batch.Batch(km).run()
    assert info.value.msg.startswith('phase=import needs wrapped_path')


def test_prepare_checks_the_material_against_key_spec_before_any_call():
    batch = _batch.Batch(FakeKm([entry_params(alias='a', key_spec='RSA_2048', key_material=AES_B64)]))
    entry = batch.entries[0]
    with pytest.raises(KmsInputError) as info:
        batch.prepare(entry)
    assert info.value.msg == ('key_spec is RSA_2048, but key_material holds 32 bytes of AES_256 material: set '
                              'key_spec to AES_256, or give material of the kind RSA_2048 needs.')


def test_prepare_loads_material_and_expiry():
    batch = _batch.Batch(FakeKm([entry_params(alias='a', key_material=AES_B64, expiration_time='2031-01-01')]))
    entry = batch.entries[0]
    batch.prepare(entry)
    assert entry.material.symmetric == base64.b64decode(AES_B64) and entry.expiration_time == 1924992000


def test_prepare_reads_files_through_the_capped_reader(tmp_path):
    fifo = tmp_path / 'fifo'
    os.mkfifo(str(fifo))
    batch = _batch.Batch(FakeKm([entry_params(alias='a', key_material_path=str(fifo))]))
    with pytest.raises(KmsInputError, match='^key_material_path .* is not a regular file'):
        batch.prepare(batch.entries[0])


def test_parallel_fails_only_the_entry_that_raised():
    batch = _batch.Batch(FakeKm([entry_params(alias=name, key_material=AES_B64) for name in 'abc']))

    def step(entry):
        if entry.alias == 'b':
            raise KmsError('b broke', error_code='KMS.0001', request_id='rid')

    batch.parallel(step, batch.entries)
    assert [entry.error is None for entry in batch.entries] == [True, False, True]
    assert batch.entries[1].result['action'] == 'failed' and batch.entries[1].result['request_id'] == 'rid'


def test_outcome_fails_with_every_result_and_names_the_failed_keys():
    batch = _batch.Batch(FakeKm([entry_params(alias='a', key_material=AES_B64),
                                 entry_params(alias='b', key_material=AES_B64)]))
    good, bad = batch.entries
    good.result = _batch.result_of(good, {'key_id': KEY_ID, 'key_state': '2', 'key_state_name': 'enabled'},
                                   'imported', True)
    bad.fail(KmsInputError('No key has the alias b.'))
    with pytest.raises(_batch.BatchFailed) as info:
        batch.outcome()
    kwargs = info.value.as_fail_kwargs()
    assert kwargs['msg'] == '1 of 2 keys failed (b). b: No key has the alias b.'
    assert kwargs['changed'] is True and [r['action'] for r in kwargs['results']] == ['imported', 'failed']
    assert kwargs['diff'] == [{'before_header': 'a (%s)' % KEY_ID, 'after_header': 'a (%s)' % KEY_ID,
                               'before': {}, 'after': {'key_state': '2', 'key_state_name': 'enabled',
                                                       'expiration_time': None}}]


@pytest.mark.parametrize('workers', [0, 33])
def test_max_workers_is_bounded(workers):
    with pytest.raises(KmsInputError, match='max_workers must be between 1 and 32'):
        _batch.Batch(FakeKm([entry_params(alias='a', key_material=AES_B64)], max_workers=workers)).run()


def test_weak_algorithm_warns_once_with_the_shared_text():
    km = FakeKm([entry_params(alias='a', key_material=AES_B64, key_spec='RSA_2048')],
                wrapping_algorithm='RSAES_OAEP_SHA_1')
    with pytest.raises(_batch.BatchFailed):
        _batch.Batch(km).run()  # the key fails in prepare, before any call
    assert km.warnings == ['wrapping_algorithm RSAES_OAEP_SHA_1 is weak; use RSAES_OAEP_SHA_256 unless old '
                           'tooling needs it.']


def test_result_never_holds_material():
    batch = _batch.Batch(FakeKm([entry_params(alias='a', key_material=AES_B64)]))
    entry = batch.entries[0]
    batch.prepare(entry)
    result = _batch.result_of(entry, None, 'would_import', True)
    assert AES_B64 not in repr(result) and set(result) == {
        'alias', 'key_id', 'key_spec', 'key_state', 'key_state_name', 'changed', 'action', 'verified',
        'expiration_time', 'expiration_date', 'error', 'error_code', 'request_id', 'material_check'}


def test_index_keys_prefers_the_live_key_of_an_alias():
    deleted = {'key_id': 'k1', 'alias': 'app', 'key_state': '4'}
    live = {'key_id': 'k2', 'alias': 'app', 'key_state': '2'}
    nameless = {'key_id': 'k3', 'alias': None, 'key_state': '2'}
    for listed in ([deleted, live, nameless], [live, deleted, nameless]):
        index_id, index_alias = _batch.index_keys(listed)
        assert index_alias == {'app': live} and set(index_id) == {'k1', 'k2', 'k3'}


def test_failure_message_details_at_most_five_keys():
    batch = _batch.Batch(FakeKm([entry_params(alias='k%d' % i, key_material=AES_B64) for i in range(7)]))
    for entry in batch.entries:
        entry.fail(KmsInputError('bad %s' % entry.alias))
    message = _batch.failure_message(batch.entries, 9)
    assert message.startswith('7 of 9 keys failed (k0, k1, k2, k3, k4, k5, k6). k0: bad k0. k1: bad k1.')
    assert 'k5: bad' not in message and message.endswith('k4: bad k4. And 2 more: see results.')


def test_on_done_reports_each_entry_once_when_its_result_is_final(monkeypatch):
    done = []
    keys = [entry_params(alias='short', key_material='c2hvcnQ='), entry_params(alias='a', key_material=AES_B64),
            entry_params(alias='a', key_material=AES_B64)]
    batch = _batch.Batch(FakeKm(keys), on_done=lambda entry: done.append((entry.index, entry.result['action'])))
    monkeypatch.setattr(batch, 'resolve', lambda: None)

    def process(entry):
        entry.result = _batch.result_of(entry, None, 'unchanged', False)

    monkeypatch.setattr(batch, 'process', process)
    with pytest.raises(_batch.BatchFailed):
        batch.run()
    # the entries that failed before any call come first, then each processed one
    assert sorted(done[:2]) == [(0, 'failed'), (2, 'failed')]
    assert done[2:] == [(1, 'unchanged')]


def test_warnings_about_a_key_name_its_alias():
    batch = _batch.Batch(FakeKm([entry_params(alias='app-data', key_material=AES_B64), entry_params(key_id=KEY_ID)]))
    batch.warn_for(batch.entries[0])('key %s holds material with another expiry.' % KEY_ID)
    batch.warn_for(batch.entries[0])('create-key for alias app-data failed; it is created again.')
    batch.warn_for(batch.entries[1])('key %s holds material with another expiry.' % KEY_ID)
    assert batch.km.warnings == ['app-data: key %s holds material with another expiry.' % KEY_ID,
                                 'create-key for alias app-data failed; it is created again.',
                                 'key %s holds material with another expiry.' % KEY_ID]
