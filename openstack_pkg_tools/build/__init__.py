"""Build-time tools for packagers: run from ``debian/rules`` or by hand, never at install time."""
