"""`cicd`: a Heroku-style release CLI for the CodePipeline V2 pipelines this project creates.

The package talks to AWS with boto3 only; it never imports Pulumi or `components`, so it starts
fast and installs alone (`cicd/pyproject.toml`). Where things are (docs/layout.md): a command
reads parse -> gather -> decide -> print, and each has its folder: `cli/` (one module per
command; `cli.main` runs one), `aws/` (calls to AWS, returning plain data), `decide/` (pure
decisions: which release `promote` takes is `decide/promotion.py`), `render/` (text and JSON),
`model/` (the nouns). `contract` holds the names shared with the components, `errors` the exit
codes, `text` the short forms and tables, `entry` the console script. The offline commands
(plan, diff, diagram) are the platform's, plugged in by an entry point (`cli/offline.py`).
"""

__version__ = "0.1.0"
