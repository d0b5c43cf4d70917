"""Python's cycle collector paused while a short command builds many long-lived objects.

Importing the study's models (pydantic classes, dataclasses) and checking a study allocate hundreds of
thousands of small objects that stay alive until the command ends; each collection the allocations trigger
walks all of them again. A `check` just after an edit spent a twentieth of its time there, and a 1 MB
instrument half of its parse. None of these objects form cycles worth collecting before the command returns.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector (restored after; nested uses keep it paused until the outermost ends)."""
    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # what was made is handed to the oldest generation as it is: enabled with a young generation of a
            # million objects, the next allocation would start a collection over all of them (0.1 s)
            if not frozen:  # (unless someone froze objects on purpose: unfreezing would undo it)
                gc.freeze()
                gc.unfreeze()
            gc.enable()
