"""Secrets are compared in constant time in the emulator (a code inspection test).

The emulator checks AK/SK signatures, import tokens (their MAC), security tokens, IAM passwords
and re-imported material. An ``==`` on any of those leaks, through timing, how many leading
bytes of a guess were right. This test reads the emulator's source and fails on:

* a ``==`` / ``!=`` comparison of which one side names a secret-like value, and
* a check below that no longer goes through ``hmac.compare_digest``.

Bearer tokens (IAM tokens, security tokens) are looked up by their SHA-256 in the state file
(``secret_hash``), never compared as text; that is checked too.
"""

import ast

import pytest

from harness import EMULATOR_DIR

SOURCE_DIR = EMULATOR_DIR / "kms_emulator"
SECRET_WORDS = ("secret", "password", "signature", "token", "mac", "fingerprint", "digest",
                "expected", "presented", "hash")
# names that contain a secret word but name no secret value
NOT_SECRET = {"token_pattern", "tokens_issued", "iam_tokens_issued", "token_lifetime",
              "import_token_lifetime", "secret_hash", "digest_size"}


def _sources():
    return sorted(SOURCE_DIR.glob("*.py"))


def _leaf(node):
    """The name an operand is known by: variable, attribute, called function or subscript key."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _leaf(node.func)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _leaf(node.value)
    if isinstance(node, ast.Constant):
        return None
    return None


def _secret_like(name):
    if not name:
        return False
    if name.isupper():
        return False  # a module constant (e.g. a format version), not a secret
    lowered = name.lower()
    return lowered not in NOT_SECRET and any(word in lowered for word in SECRET_WORDS)


def _equality_on_secrets(path):
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left] + list(node.comparators)
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                continue
            # comparing with a literal (a status, a kind name, None) reveals no secret
            if isinstance(left, ast.Constant) or isinstance(right, ast.Constant):
                continue
            if _secret_like(_leaf(left)) or _secret_like(_leaf(right)):
                found.append("%s:%d: %s" % (path.name, node.lineno, ast.unparse(node)))
    return found


def _compare_digest_calls(path):
    """Source text of every hmac.compare_digest(...) call in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    return [ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compare_digest"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "hmac"]


def _function_source(path, name):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.unparse(node)
    raise AssertionError("%s defines no function %s" % (path.name, name))


def test_no_equality_operator_on_secret_values():
    offending = [line for path in _sources() for line in _equality_on_secrets(path)]
    assert not offending, "secret-like values compared with == / != (use hmac.compare_digest):\n" \
        + "\n".join(offending)


@pytest.mark.parametrize("module, function, needle", [
    # the AK/SK request signature
    ("aksk.py", "verify", "signature"),
    # the MAC of an import token
    ("byok.py", "open_import_token", "mac"),
    # re-imported symmetric material against the first one's fingerprint (KMS.2606)
    ("byok.py", "_import_symmetric", "fingerprint"),
    # the X-Security-Token of temporary credentials
    ("auth.py", "_check_security_token", "secret_hash(presented)"),
    # the IAM password
    ("iam.py", "issue_token", "password"),
])
def test_secret_checks_use_compare_digest(module, function, needle):
    source = _function_source(SOURCE_DIR / module, function)
    calls = [call for call in _compare_digest_calls(SOURCE_DIR / module) if call in source]
    assert any(needle in call for call in calls), (
        "%s.%s no longer compares %s with hmac.compare_digest: %s" % (module, function, needle, calls))


def test_bearer_tokens_are_looked_up_by_hash_only():
    """An IAM token is found by SHA-256(token) in the state file, never by its text."""
    token_principal = _function_source(SOURCE_DIR / "auth.py", "_token_principal")
    assert "db.token(secret_hash(token))" in token_principal
    store = (SOURCE_DIR / "store.py").read_text()
    assert "token_hash TEXT PRIMARY KEY" in store
    assert "security_token_hash TEXT NOT NULL" in store


def test_inspection_sees_the_whole_emulator():
    """The checks above read real code: the package is where the suite expects it."""
    names = {path.name for path in _sources()}
    assert {"aksk.py", "auth.py", "byok.py", "iam.py", "store.py"} <= names
    assert len(_compare_digest_calls(SOURCE_DIR / "aksk.py")) >= 1
