"""Running the role dew.kms.byok through ansible-playbook, and checking what it did."""

import os

from harness import is_retry_warning, run_playbook

# The role inside a block, so that its results are written out even when it fails.
ROLE_PLAYBOOK = """
- name: Bring keys in with dew.kms.byok
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/dew.kms.kms: "{{ kms_options }}"
  tasks:
    - name: The role
      block:
        - name: Run dew.kms.byok
          ansible.builtin.include_role:
            name: dew.kms.byok
      always:
        - name: Write what the role reported
          ansible.builtin.copy:
            content: "{{ {'results': byok_results | default(None)} | to_json }}"
            dest: "{{ result_file }}"
            mode: "0600"
"""


def make_materials(directory, count, prefix):
    """``count`` random AES-256 materials as 0600 files; returns [(alias, path, bytes)]."""
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        material = os.urandom(32)
        path = directory / ("%s-%02d.bin" % (prefix, index))
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(material)
        made.append(("%s-%02d" % (prefix, index), str(path), material))
    return made


def run_role(collections_root, workdir, kms_options, keys, timeout=600, **role_vars):
    """Run the role for ``keys`` ([(alias, path, material)]); returns the PlaybookRun."""
    extra = {"kms_options": kms_options,
             "byok_keys": [{"alias": alias, "key_material_path": path}
                           for alias, path, _material in keys]}
    extra.update(role_vars)
    return run_playbook(collections_root, workdir, ROLE_PLAYBOOK, extra, timeout=timeout)


def retry_warnings(run):
    """The warnings of a run that announce a retry of a KMS or IAM call."""
    return [warning for warning in run.warnings() if is_retry_warning(warning)]
