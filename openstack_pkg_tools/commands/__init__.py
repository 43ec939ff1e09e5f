"""The subcommands of ``pkgos``, one module per group.

Each module has ``register(subparsers)``, which adds its parsers and sets
``handler`` on them. Modules import heavy libraries inside their handlers
only, so that ``pkgos --help`` and ``pkgos ini`` start fast.
"""
