"""`python -m bot`: run the Telegram bot (the same as `newsdesk run`)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
