"""The ``monitor`` loop's analyses: snapshot history, regressions, intervention samples."""
