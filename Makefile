# openstack-pkg-tools: the two commands a newcomer needs are
#   make demo    a real demonstration on this machine (see README.md)
#   make check   install what the tests need, then run the whole test suite
# Both run as root on a fresh Debian 12 machine with nothing done by hand.

# Maintainer scripts run under Debian's interpreter with Debian's libraries,
# so the tests do too: a venv on /usr/bin/python3 that sees them.
PYTHON := /usr/bin/python3
VENV := .venv
VPY := $(VENV)/bin/python

# Runtime libraries, from Debian's archive only.
DEBIAN_RUNTIME := python3-debian python3-debconf python3-jinja2 python3-sh \
	python3-pymysql python3-keystoneauth1 python3-psycopg2
# What the test suite and the benchmarks use besides them.
DEBIAN_TEST := python3-venv python3-pip python3-sqlalchemy python3-oslo.config \
	debconf-utils dpkg-dev

# The image builder's integration test and benchmark (make check-image):
# bootstrap, disk assembly from plain files, boot tests under QEMU.
DEBIAN_IMAGE := mmdebstrap debootstrap qemu-system-x86 qemu-utils ovmf seabios mtools \
	dosfstools fdisk e2fsprogs genisoimage openssl zstd python3-yaml
# The upload test's real Glance (and the Keystone it authenticates against).
DEBIAN_IMAGE_GLANCE := python3-glance python3-keystone uwsgi-core uwsgi-plugin-python3

.PHONY: all check deps venv test lint bench demo demo-clean clean check-image bench-image

all: check

deps:
	tools/ensure-debs $(DEBIAN_RUNTIME) $(DEBIAN_TEST)

$(VENV)/.installed: requirements-dev.txt setup.cfg pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: deps $(VENV)/.installed

# The whole suite: unit, lint and types, integration against real servers.
check: venv
	$(VPY) -m pytest tests --ignore=tests/integration/image

# Builds one minimal bookworm image (the bootstrapped tree is cached in
# .cache/image-tree), boots it with SeaBIOS, OVMF and OVMF + Secure Boot,
# and uploads an image to a real Glance. Needs root.
check-image: venv
	tools/ensure-debs $(DEBIAN_IMAGE) $(DEBIAN_IMAGE_GLANCE)
	$(VPY) -m pytest tests/integration/image

bench-image: venv
	tools/ensure-debs $(DEBIAN_IMAGE)
	$(VPY) bench/image_build.py

lint: venv
	$(VPY) -m pytest tests/unit/test_lint.py

bench: venv
	$(VPY) bench/ini_vs_reference.py

demo: venv
	$(VPY) demo/demo.py

demo-clean:
	rm -rf .cache/demo

clean:
	rm -rf $(VENV) .cache build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
