"""`cicd`: a Heroku-style release CLI for the CodePipeline V2 pipelines this project creates.

The package talks to AWS with boto3 only; it never imports Pulumi or `components`, so it starts
fast and installs anywhere. `cicd.cli` is the entry point; the other modules each own one concern
(finding pipelines, releases, approvals, rollback, following an execution, errors).
"""

__version__ = "0.1.0"
