"""``python -m geo`` runs the zoneatlas command line."""

import sys

from geo.cli import main

sys.exit(main())
