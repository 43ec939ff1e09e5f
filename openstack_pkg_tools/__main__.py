"""``python3 -m openstack_pkg_tools`` is the ``pkgos`` command."""

import sys

from .cli import main

sys.exit(main())
