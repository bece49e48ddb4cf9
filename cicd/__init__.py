"""`cicd`: a Heroku-style release CLI for the CodePipeline V2 pipelines this project creates.

The package talks to AWS with boto3 only; it never imports Pulumi or `components`, so it starts
fast and installs alone (`cicd/pyproject.toml`). `cicd.entry` is the console script and `cicd.cli`
parses arguments; `commands`, `observe` and `metrics` hold the commands; the other modules each
own one concern: finding pipelines (`discovery`, `layout`), releases and published releases
(`releases`, `published`, `manifests`), approvals, rollback, following an execution
(`progress`, `window`), status, executions and logs, output (`formatting`, `documents`) and
errors (`errors`, `partial`).
"""

__version__ = "0.1.0"
