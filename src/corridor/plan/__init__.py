"""Investment planning: which proposed projects to build, when, and what they earn.

`plan(network)` optimises flows and build decisions over a horizon of years as one MILP (an LP
when every project is continuous), the flow LP of each modelled year written once by
`optimize.build_flow_model` and stacked (docs/planning.md).
"""

from corridor.plan.horizon import Horizon, network_for_year
from corridor.plan.model import PlanModel, build_plan_model
from corridor.plan.projects import PlanError, projects_of
from corridor.plan.results import PlanResults, plan

__all__ = ["Horizon", "PlanError", "PlanModel", "PlanResults", "build_plan_model",
           "network_for_year", "plan", "projects_of"]
