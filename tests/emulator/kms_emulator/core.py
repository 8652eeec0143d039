"""The emulator's shared runtime: state store, clock, counters, fault settings, wrapping keys."""

import collections
import random
import secrets
import string
import threading
import time

from . import crypto
from .profiles import DEFAULT_PROFILE, PROFILES
from .store import Project

IMPORT_TOKEN_LIFETIME = 24 * 3600
# Both clouds allow 100 customer keys per project (README, "Cloud profiles").
DEFAULT_KEY_QUOTA = 100
# Without --activation-delay every new key waits a random time in this range (seconds).
RANDOM_ACTIVATION_DELAY = (0.2, 1.0)


class Clock:
    """Real time plus an offset that the admin call ``/__emulator/clock`` moves forward.

    The offset is kept in the state file, so expiry decisions stay consistent over a restart.
    AK/SK date-skew checks use the real clock, never this one.
    """

    def __init__(self, store):
        self._store = store
        with store.transaction() as db:
            self._offset = float(db.get_meta("clock_offset", "0"))

    def now(self):
        return time.time() + self._offset

    def now_ms(self):
        return int(self.now() * 1000)

    @property
    def offset(self):
        return self._offset

    def advance(self, seconds):
        with self._store.transaction() as db:
            offset = self._offset + seconds
            db.set_meta("clock_offset", repr(offset))
            self._offset = offset


class Stats:
    """Request counters for tests (``GET /__emulator/stats``); in memory only."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._requests = collections.Counter()
            self._statuses = collections.Counter()
            self._faults = collections.Counter()
            self._tokens_issued = 0

    def count_request(self, name):
        with self._lock:
            self._requests[name] += 1

    def count_status(self, status):
        with self._lock:
            self._statuses[str(status)] += 1

    def count_fault(self, kind):
        with self._lock:
            self._faults[kind] += 1

    def count_token_issued(self):
        with self._lock:
            self._tokens_issued += 1

    def snapshot(self):
        with self._lock:
            return {"requests": dict(self._requests), "iam_tokens_issued": self._tokens_issued,
                    "statuses": dict(self._statuses), "faults_injected": dict(self._faults)}


class Faults:
    """Fault injection settings; changed at start-up and through ``POST /__emulator/faults``."""

    FIELDS = ("latency_ms", "fail_rate", "throttle_rate", "retry_after")

    def __init__(self, latency_ms=0, fail_rate=0.0, throttle_rate=0.0, retry_after=1, seed=None):
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.throttle_rate = throttle_rate
        self.retry_after = retry_after

    def update(self, changes):
        """Apply a dict of new settings after checking every value; raise ValueError if bad."""
        checked = {}
        for name, value in changes.items():
            if name not in self.FIELDS:
                raise ValueError("unknown fault setting %r" % name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError("%s must be a non-negative number" % name)
            if name.endswith("_rate") and value > 1:
                raise ValueError("%s must be between 0 and 1" % name)
            checked[name] = int(value) if name in ("latency_ms", "retry_after") else float(value)
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def settings(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def draw(self):
        """Decide the fate of one KMS request: None, 'throttle' or 'fail'."""
        with self._lock:
            roll = self._random.random()
            if roll < self.throttle_rate:
                return "throttle"
            if roll < self.throttle_rate + self.fail_rate:
                return "fail"
            return None

    def fail_kind(self):
        with self._lock:
            return self._random.choice(((500, "KMS.0103"), (503, "KMS.0104")))


class WrappingKeyPool:
    """Pre-generated RSA-2048 wrapping key pairs, so get-parameters-for-import never waits for
    key generation. Pairs are persisted (import tokens name them) and reused across tokens."""

    GENERATION_TIMEOUT = 60

    def __init__(self, store, size):
        self._store = store
        self._size = max(1, size)
        self._changed = threading.Condition()
        self._keys = {}
        with store.transaction() as db:
            for fingerprint, private_der, public_der in db.wrapping_keys():
                self._keys[fingerprint] = (crypto.load_private_key(private_der), public_der)

    def start_filling(self):
        """Fill the pool up to its size in a background thread (start-up does not wait)."""
        if len(self._keys) < self._size:
            threading.Thread(target=self._fill, name="wrapping-key-pool", daemon=True).start()

    def _fill(self):
        while len(self._keys) < self._size:
            fingerprint, private_der, public_der = crypto.generate_wrapping_key()
            with self._store.transaction() as db:
                db.add_wrapping_key(fingerprint, private_der, public_der)
            with self._changed:
                self._keys[fingerprint] = (crypto.load_private_key(private_der), public_der)
                self._changed.notify_all()

    def pick(self):
        """(fingerprint, public SPKI DER) of a random pair; waits only for the very first."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._keys, self.GENERATION_TIMEOUT):
                raise RuntimeError("no wrapping key could be generated")
            fingerprint = random.choice(sorted(self._keys))
            return fingerprint, self._keys[fingerprint][1]

    def private_key(self, fingerprint):
        with self._changed:
            entry = self._keys.get(fingerprint)
        return entry[0] if entry else None


def random_text(alphabet, length):
    return "".join(secrets.choice(alphabet) for _position in range(length))


def random_access_key():
    return random_text(string.ascii_uppercase + string.digits, 20)


def new_project(position, region):
    """Fresh random identity for project number ``position`` (1-based): its own account
    (domain), IAM user, password and permanent AK/SK."""
    suffix = secrets.token_hex(3)
    return Project(
        project_id=secrets.token_hex(16),
        project_name=region if position == 1 else "%s_project%d" % (region, position),
        domain_id=secrets.token_hex(16),
        domain_name="emu-domain%d-%s" % (position, suffix),
        user_id=secrets.token_hex(16),
        username="emu-user%d-%s" % (position, suffix),
        password="Pw-" + secrets.token_urlsafe(18),
        access_key=random_access_key(),
        secret_key=random_text(string.ascii_letters + string.digits, 40))


class Emulator:
    """Everything the request handlers share."""

    def __init__(self, store, projects=2, wrapping_pool_size=4, faults=None,
                 key_quota=DEFAULT_KEY_QUOTA, cloud=DEFAULT_PROFILE, activation_delay=None):
        self.store = store
        self.profile = PROFILES[cloud]
        self.region = self.profile.region
        self.key_quota = key_quota
        self._activation_delay = activation_delay
        self.import_token_lifetime = IMPORT_TOKEN_LIFETIME
        self.faults = faults or Faults()
        self.stats = Stats()
        self.endpoint = None  # set by the server once it listens
        self._bootstrap(projects)
        self.clock = Clock(store)
        self.wrapping_keys = WrappingKeyPool(store, wrapping_pool_size)

    def activation_delay(self):
        """Seconds a new key waits in state 1 before it can be used."""
        if self._activation_delay is None:
            return random.uniform(*RANDOM_ACTIVATION_DELAY)
        return self._activation_delay

    def _bootstrap(self, project_count):
        with self.store.transaction() as db:
            if db.get_meta("server_secret") is None:
                db.set_meta("server_secret", secrets.token_hex(32))
            # Keys, regions and project names of a state file belong to one cloud.
            cloud = db.get_meta("cloud", self.profile.name)
            if cloud != self.profile.name:
                raise ValueError("the state file belongs to --cloud %s, not %s"
                                 % (cloud, self.profile.name))
            db.set_meta("cloud", cloud)
            existing = len(db.projects())
            for position in range(existing + 1, project_count + 1):
                db.add_project(new_project(position, self.region))
            self.server_secret = bytes.fromhex(db.get_meta("server_secret"))

    def projects(self):
        with self.store.transaction() as db:
            return db.projects()
