"""`python -m cicd`: the same entry point as the `cicd` console script."""

from cicd.cli import main

raise SystemExit(main())
