"""`python -m ingest.cleaning FILE... [--embed] [--json]`."""
from ingest.cleaning.report import main

raise SystemExit(main())
