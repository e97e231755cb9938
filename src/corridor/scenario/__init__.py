"""Scenarios: declarative YAML changes to a base network (outages, sanctions, projects, targets)."""

from corridor.scenario.apply import (
    apply,
    apply_scenario,
    find_scenario,
    list_scenarios,
    scenario_periods,
)
from corridor.scenario.file import ScenarioError, ScenarioFile, read_scenario_file

__all__ = ["apply", "apply_scenario", "find_scenario", "list_scenarios", "read_scenario_file",
           "scenario_periods",
           "ScenarioError", "ScenarioFile"]
