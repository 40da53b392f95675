"""Step 4 ``alignment``: the marketing → sales hand-off of leads."""
