"""Step 5 ``enablement``: new reps, ramp, training and capability gaps."""
