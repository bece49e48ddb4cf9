"""The program seen offline: `cicd plan`, `cicd diff` and `cicd diagram`, with no AWS and no
Pulumi CLI.

`evaluate` runs the program under Pulumi's mocks (`stack.offline`) and builds each stack's plan
(`document`: every declared resource as stable JSON) and runs the guardrails on it; `diff`
compares the plans of two revisions (`replacements`: which changed inputs force a
replacement); `diagram` draws a plan's pipelines. `commands` is how the release CLI reaches
them: the entry point `gh_aws_delivery.cicd:offline` of this (the platform's) distribution.
"""
