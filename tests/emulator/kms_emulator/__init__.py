"""A local stand-in for Huawei Cloud / Open Telekom Cloud KMS v1.0 and the IAM calls it needs.

Start it with ``python -m kms_emulator`` (see ``tests/emulator/README.md``).
"""

__version__ = "0.1.0"
