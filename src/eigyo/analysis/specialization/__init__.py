"""Step 3 ``specialization``: who is strong at which stage, roles, capacity, hand-offs."""
