"""payments-api: build on every push, test, shift the Lambda alias with canary and rollback."""

import pulumi

from components import ServicePipeline, TargetArgs

config = pulumi.Config()
stage = pulumi.get_stack()
function = f"payments-api-{stage}"
target: TargetArgs = {
    "name": "api",
    "function_name": function,
    "alias": config.get("alias") or "live",
}

chain = ServicePipeline(
    "payments-api",
    {
        "service": "payments-api",
        "stage": stage,
        "repository": config.require("repository"),
        "branch": config.get("branch") or "main",
        "tests": [{"name": "unit", "buildspec": "buildspecs/unit.yml"}],
        "deploy": {
            "platform": "lambda",
            "targets": [target],
            "strategy": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "default_alarms": {"api": {"function_name": function, "alias": target["alias"]}},
        },
    },
)
pulumi.export("pipeline_url", chain.pipeline_url)
pulumi.export("connection_arn", chain.connection_arn)
