"""`python -m cicd`: the same entry point as the `cicd` console script."""

from cicd.entry import run

raise SystemExit(run())
