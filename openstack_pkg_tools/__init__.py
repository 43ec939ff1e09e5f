"""openstack-pkg-tools: turn debconf answers into a configured OpenStack service.

The package is imported by Debian maintainer scripts, so importing it (or any
of its small modules) must stay cheap: submodules import heavy libraries
(keystoneauth1, pymysql, python-debian) only where they need them.
"""

__version__ = "0.1.0"
