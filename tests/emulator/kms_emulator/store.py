"""The emulator's state in SQLite: credentials, IAM tokens, keys, wrapping key pool, clock.

One connection shared by all request threads, serialised by a lock; every change runs in a
transaction, so a process killed at any moment leaves either the old or the new state on disk.
Without a state file the database lives in memory.
"""

import dataclasses
import sqlite3
import threading
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    position INTEGER PRIMARY KEY, project_id TEXT UNIQUE NOT NULL, project_name TEXT NOT NULL,
    domain_id TEXT NOT NULL, domain_name TEXT NOT NULL, user_id TEXT NOT NULL,
    username TEXT NOT NULL, password TEXT NOT NULL,
    access_key TEXT UNIQUE NOT NULL, secret_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, domain_id TEXT NOT NULL,
    project_id TEXT, issued_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS temp_credentials (
    access_key TEXT PRIMARY KEY, secret_key TEXT NOT NULL, security_token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS wrapping_keys (
    fingerprint TEXT PRIMARY KEY, private_der BLOB NOT NULL, public_der BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL, domain_id TEXT NOT NULL, alias TEXT NOT NULL,
    description TEXT NOT NULL, key_spec TEXT NOT NULL, key_usage TEXT NOT NULL,
    origin TEXT NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL,
    deletion_ms INTEGER, material BLOB, material_fingerprint TEXT, material_expires_ms INTEGER,
    activates_ms INTEGER, UNIQUE (project_id, alias));
CREATE TABLE IF NOT EXISTS key_tags (
    key_id TEXT NOT NULL, tag_key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key));
"""


@dataclasses.dataclass
class Key:
    key_id: str
    project_id: str
    domain_id: str
    alias: str
    description: str
    key_spec: str
    key_usage: str
    origin: str
    state: str
    created_ms: int
    deletion_ms: object = None           # epoch ms when a scheduled deletion completes
    material: object = None              # raw AES key / HMAC key, or PKCS#8 DER private key
    material_fingerprint: object = None  # HMAC of the first imported material (re-import check)
    material_expires_ms: object = None   # imported symmetric material expiry, epoch ms
    activates_ms: object = None          # epoch ms when a key in state 1 becomes usable


KEY_COLUMNS = [field.name for field in dataclasses.fields(Key)]


@dataclasses.dataclass
class Project:
    project_id: str
    project_name: str
    domain_id: str
    domain_name: str
    user_id: str
    username: str
    password: str
    access_key: str
    secret_key: str


PROJECT_COLUMNS = [field.name for field in dataclasses.fields(Project)]


class Store:
    def __init__(self, path=None):
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path or ":memory:", check_same_thread=False,
                                     isolation_level=None)
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        columns = [row[1] for row in self._conn.execute("PRAGMA table_info(keys)")]
        if "activates_ms" not in columns:  # a state file written before key activation existed
            self._conn.execute("ALTER TABLE keys ADD COLUMN activates_ms INTEGER")

    @contextmanager
    def transaction(self):
        """Exclusive access to the database; commits on success, rolls back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Db(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self):
        with self._lock:
            self._conn.close()


class Db:
    """The queries of the emulator, valid inside one ``Store.transaction()``."""

    def __init__(self, conn):
        self._conn = conn

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, name, default=None):
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else default

    def set_meta(self, name, value):
        self._conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                           (name, str(value)))

    # -- projects and users -------------------------------------------------------------------
    def add_project(self, project):
        self._conn.execute(
            "INSERT INTO projects (%s) VALUES (%s)" % (
                ", ".join(PROJECT_COLUMNS), ", ".join("?" * len(PROJECT_COLUMNS))),
            dataclasses.astuple(project))

    def projects(self, where="1 = 1", args=()):
        rows = self._conn.execute("SELECT %s FROM projects WHERE %s ORDER BY position" % (
            ", ".join(PROJECT_COLUMNS), where), args).fetchall()
        return [Project(*row) for row in rows]

    def project_by(self, column, value):
        found = self.projects("%s = ?" % column, (value,))
        return found[0] if found else None

    # -- IAM tokens and temporary credentials -------------------------------------------------
    def add_token(self, token_hash, user_id, domain_id, project_id, issued_at, expires_at):
        self._conn.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, user_id, domain_id, project_id, issued_at, expires_at))

    def token(self, token_hash):
        return self._conn.execute(
            "SELECT user_id, domain_id, project_id, expires_at FROM tokens WHERE token_hash = ?",
            (token_hash,)).fetchone()

    def add_temp_credential(self, access_key, secret_key, token_hash, user_id, expires_at):
        self._conn.execute("INSERT INTO temp_credentials VALUES (?, ?, ?, ?, ?)",
                           (access_key, secret_key, token_hash, user_id, expires_at))

    def temp_credential(self, access_key):
        return self._conn.execute(
            "SELECT secret_key, security_token_hash, user_id, expires_at FROM temp_credentials"
            " WHERE access_key = ?", (access_key,)).fetchone()

    # -- wrapping key pool --------------------------------------------------------------------
    def add_wrapping_key(self, fingerprint, private_der, public_der):
        self._conn.execute("INSERT OR IGNORE INTO wrapping_keys VALUES (?, ?, ?)",
                           (fingerprint, private_der, public_der))

    def wrapping_keys(self):
        return self._conn.execute(
            "SELECT fingerprint, private_der, public_der FROM wrapping_keys").fetchall()

    # -- keys ---------------------------------------------------------------------------------
    def insert_key(self, key):
        self._conn.execute("INSERT INTO keys (%s) VALUES (%s)" % (
            ", ".join(KEY_COLUMNS), ", ".join("?" * len(KEY_COLUMNS))), dataclasses.astuple(key))

    def update_key(self, key):
        assignments = ", ".join("%s = ?" % column for column in KEY_COLUMNS[1:])
        values = dataclasses.astuple(key)
        self._conn.execute("UPDATE keys SET %s WHERE key_id = ?" % assignments,
                           values[1:] + values[:1])

    def _select_keys(self, where, args, suffix=""):
        rows = self._conn.execute("SELECT %s FROM keys WHERE %s ORDER BY seq%s" % (
            ", ".join(KEY_COLUMNS), where, suffix), args).fetchall()
        return [Key(*row) for row in rows]

    def key_by_id(self, project_id, key_id):
        found = self._select_keys("project_id = ? AND key_id = ?", (project_id, key_id))
        return found[0] if found else None

    def key_by_alias(self, project_id, alias):
        found = self._select_keys("project_id = ? AND alias = ?", (project_id, alias))
        return found[0] if found else None

    def keys(self, project_id, key_state=None, key_spec=None):
        where, args = ["project_id = ?"], [project_id]
        if key_state:
            where.append("state = ?")
            args.append(key_state)
        if key_spec:
            where.append("key_spec = ?")
            args.append(key_spec)
        return self._select_keys(" AND ".join(where), args)

    def count_keys(self, project_id):
        return self._conn.execute("SELECT COUNT(*) FROM keys WHERE project_id = ?",
                                  (project_id,)).fetchone()[0]

    # -- key tags -----------------------------------------------------------------------------
    def key_tags(self, key_id):
        rows = self._conn.execute("SELECT tag_key, value FROM key_tags WHERE key_id = ?"
                                  " ORDER BY tag_key", (key_id,)).fetchall()
        return dict(rows)

    def set_key_tag(self, key_id, tag_key, value):
        self._conn.execute("INSERT OR REPLACE INTO key_tags VALUES (?, ?, ?)", (key_id, tag_key, value))

    def delete_key_tag(self, key_id, tag_key):
        self._conn.execute("DELETE FROM key_tags WHERE key_id = ? AND tag_key = ?", (key_id, tag_key))

    def apply_time(self, now_ms):
        """Let time act: activate new keys, finish scheduled deletions, expire imported
        symmetric material."""
        self._conn.execute(
            "UPDATE keys SET state = CASE origin WHEN 'external' THEN '5' ELSE '2' END,"
            " activates_ms = NULL WHERE state = '1' AND activates_ms <= ?", (now_ms,))
        self._conn.execute("DELETE FROM keys WHERE state = '4' AND deletion_ms <= ?", (now_ms,))
        self._conn.execute("DELETE FROM key_tags WHERE key_id NOT IN (SELECT key_id FROM keys)")
        self._conn.execute(
            "UPDATE keys SET state = '5', material = NULL, material_expires_ms = NULL"
            " WHERE state IN ('2', '3') AND origin = 'external'"
            " AND material_expires_ms IS NOT NULL AND material_expires_ms <= ?", (now_ms,))
