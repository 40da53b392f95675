"""Step 2 ``process``: where deals leak, stall, loop back or slip."""
