"""What `cicd` decides, with no I/O: which pipeline (`pipelines`), commit or execution
(`commits`) is meant; which release to promote and whether it may go (`promotion`); which
execution to roll back to (`rollback`); what waits for approval (`approvals`); where a followed
release is (`progress`); the delivery metrics (`metrics`); when a deployment window opens
(`window`). Inputs are `cicd.model` values; refusals are `cicd.errors`.
"""
