"""Step 7 ``organization``: how selling time is used."""
