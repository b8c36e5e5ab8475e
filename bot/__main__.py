"""`python -m bot` is the same as the `wegweiser` command."""

import sys

from bot.cli import main

sys.exit(main())
