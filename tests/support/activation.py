# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a new key to become usable, for tests that create keys without the collection's
modules (raw HTTP, the official SDK, module_utils functions called directly).

Every new key starts in state 1 (pending activation) for a moment (the emulator: 0.2 to 1.0 s by
default) and refuses most actions until then, as the real service does::

    from support.activation import wait_for_activation

    key = wait_for_activation(lambda key_id: kms.describe(key_id), key_id)
    assert key['key_state'] == '5'

``describe`` may return describe-key's ``key_info`` or a normalised key of the collection: only
``key_state`` is read.
"""

import time

PENDING_ACTIVATION = '1'
# far beyond the emulator's longest default delay, so a loaded machine never fails a test
ACTIVATION_TIMEOUT = 30.0
POLL_PAUSE = 0.05


def wait_for_activation(describe, key_id, timeout=ACTIVATION_TIMEOUT, step=None):
    """The key ``describe(key_id)`` returns once it has left state 1 (pending activation).

    Between two descriptions ``step()`` is called when given (e.g. to move the emulator clock,
    which activation follows), else the test sleeps ``POLL_PAUSE`` seconds. AssertionError
    naming the key when it is still pending after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        key = describe(key_id)
        if str(key['key_state']) != PENDING_ACTIVATION:
            return key
        if time.monotonic() >= deadline:
            raise AssertionError('key %s is still pending activation after %s s' % (key_id, timeout))
        if step is None:
            time.sleep(POLL_PAUSE)
        else:
            step()
