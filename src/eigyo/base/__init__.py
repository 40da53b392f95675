"""The leaf layer: statistics, formatting, vocabulary, periods and currency.

Nothing here imports another eigyo package except :mod:`eigyo.errors` and :mod:`eigyo.i18n`;
every other layer may import it (a test checks the import graph)."""
