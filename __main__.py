"""`python -m gridwatch` is the same as the `gridwatch` console script."""

from .cli import main

raise SystemExit(main())
