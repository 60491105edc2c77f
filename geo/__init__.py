"""zoneatlas: planning analyses of industrial functional zones.

The importable package is ``geo``; the command-line tool is ``zoneatlas``.
"""

__version__ = "0.1.0"
