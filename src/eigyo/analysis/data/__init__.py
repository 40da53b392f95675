"""Step 6 ``data``: segments, ICP fit, win probability, forecast, customer value."""
