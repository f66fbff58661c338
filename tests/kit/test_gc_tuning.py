"""The collector's settings for serving: start-up objects frozen, young generation raised."""

import gc
from collections.abc import Iterator

import pytest

from dreamlust.kit.gc_tuning import YOUNG_GENERATION_THRESHOLD, tune_for_serving


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_serving_freezes_what_exists_and_raises_the_young_threshold() -> None:
    survivor = [object()]
    _, middle, old = gc.get_threshold()
    tune_for_serving()
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, middle, old)
    assert gc.get_freeze_count() > 0
    assert not any(survivor is tracked for tracked in gc.get_objects())  # frozen, not tracked
