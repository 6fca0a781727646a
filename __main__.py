"""`python -m gridwatch` is the same as the `gridwatch` console script."""

from gridwatch.cli import main

raise SystemExit(main())
