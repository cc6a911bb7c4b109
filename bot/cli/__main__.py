"""`python -m bot.cli`: the `newsdesk` command."""

from bot.cli import main

raise SystemExit(main())
