# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as ansible finds it: a copy of the checkout in ``ansible_collections/dew/kms``."""

import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_collection_tree(root):
    """Copy the checkout (tracked and untracked-but-not-ignored files, as ``make tree`` does) to
    ``<root>/ansible_collections/dew/kms`` and return ``root``, the collections path."""
    tree = os.path.join(str(root), 'ansible_collections', 'dew', 'kms')
    os.makedirs(tree, exist_ok=True)
    listing = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             cwd=REPO, check=True, stdout=subprocess.PIPE).stdout
    for name in filter(None, listing.split(b'\0')):
        relative = os.fsdecode(name)
        source = os.path.join(REPO, relative)
        if not os.path.isfile(source):  # deleted in the work tree but still in the index
            continue
        target = os.path.join(tree, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
    return root


def import_collection(collections_root):
    """Make ``ansible_collections.dew.kms`` importable in this process (in-process tests)."""
    root = str(collections_root)
    if root not in sys.path:
        sys.path.insert(0, root)
