"""The runbook: declared checks that turn analyses into findings with evidence and impact (in
the workspace currency)."""

from eigyo.diagnose.checks import Check, load_checks
from eigyo.diagnose.evaluate import diagnose
from eigyo.diagnose.model import STEPS, Finding

__all__ = ["STEPS", "Check", "Finding", "diagnose", "load_checks"]
