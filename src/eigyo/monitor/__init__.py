"""The improvement loop (``monitor`` step): snapshots, control charts, alerts, interventions.

``take_snapshot`` stores what the numbers and findings were at each run; ``control`` judges
weekly and monthly series against their own history; ``alerts`` says once what got worse, through
``sinks``; ``interventions`` measures whether a change worked; ``regressions`` hands the
diagnosis the metrics that left their limits.
"""

from eigyo.analysis.monitor.regressions import Regression, regressions
from eigyo.monitor.alerts import Alert, list_alerts
from eigyo.monitor.config import MonitorConfig
from eigyo.monitor.config import load as load_config
from eigyo.monitor.control import Chart, Signal, chart
from eigyo.monitor.interventions import Effect, add_intervention, effects
from eigyo.monitor.sinks import SinkError, deliver
from eigyo.monitor.snapshots import (
    MonitorRun,
    Snapshot,
    latest,
    list_snapshots,
    take_snapshot,
)

__all__ = [
    "Alert",
    "Chart",
    "Effect",
    "MonitorConfig",
    "MonitorRun",
    "Regression",
    "Signal",
    "SinkError",
    "Snapshot",
    "add_intervention",
    "chart",
    "deliver",
    "effects",
    "latest",
    "list_alerts",
    "list_snapshots",
    "load_config",
    "regressions",
    "take_snapshot",
]
