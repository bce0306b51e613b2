"""`python -m backlog …` is the same as the `backlog` console script."""

from backlog.cli.main import main

raise SystemExit(main())
