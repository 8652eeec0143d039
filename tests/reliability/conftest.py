"""Fixtures of the reliability suite: emulator processes and the collection tree."""

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from harness import OUTPUT_DIR, Emulator, build_collection_tree

# No example database (runs are independent), and Hypothesis's own caches go to the ignored
# test output directory instead of .hypothesis/ in the checkout.
set_hypothesis_home_dir(str(OUTPUT_DIR / "hypothesis"))
settings.register_profile("reliability", database=None, deadline=None)
settings.load_profile("reliability")


@pytest.fixture(scope="session")
def collections_root(tmp_path_factory):
    """``<tmp>/ansible_collections/dew/kms``: the checkout as ansible-playbook finds it."""
    return build_collection_tree(tmp_path_factory.mktemp("collections"))


@pytest.fixture
def start_emulator(tmp_path):
    """``start_emulator(*args, **kwargs)`` starts an emulator; all are stopped afterwards."""
    started = []

    def start(*args, workdir=None, **kwargs):
        emulator = Emulator(workdir or tmp_path / ("emulator-%d" % len(started)), *args, **kwargs)
        started.append(emulator)
        return emulator.start()

    yield start
    for emulator in started:
        emulator.stop()
