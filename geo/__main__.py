"""``python -m geo`` runs the zoneatlas command line."""

import sys

from geo.cli import console_main

sys.exit(console_main())
