"""`python -m pypowerwall_server` runs the command line (see cli.py)."""

from pypowerwall_server.cli import main

raise SystemExit(main())
