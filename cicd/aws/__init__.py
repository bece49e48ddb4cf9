"""The AWS side of `cicd`: functions that take boto3 clients and return plain data (`cicd.model`).

Finding pipelines by their tags and reading their layout (`pipelines`), executions as releases
and what each ran (`executions`), published releases and their manifests (`published`,
`manifests`), approvals, rollbacks, deployments and the connection (`approvals`, `rollback`,
`status`), logs (`logs`); the clients of a run (`clients`), AWS's errors in the CLI's words
(`errors`, `permissions`) and reads that show what they can (`partial`). No decisions, no
printing.
"""
