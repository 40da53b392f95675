"""The generation a request reads, set once at the door (``_factory._Door``).

A module of its own because both the app's state (which reads it) and the background warm-up
(which sets it for the pages it computes) need it, and the state starts the warm-up: defined in
either, the two would import each other. Context variables follow the request into the worker
threads.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eigyo.app._serving import Served

GENERATION: ContextVar[str | None] = ContextVar("eigyo_generation", default=None)

#: What the request reads and whether a newer generation is being prepared (set at the door with
#: :data:`GENERATION`, read by the pages' layout to label the data shown; None without a door).
SERVED: ContextVar[Served | None] = ContextVar("eigyo_served", default=None)
