"""`python -m backlog …` is the same as the `backlog` console script."""

from backlog.cli import main

raise SystemExit(main())
