# openstack-pkg-tools: the two commands a newcomer needs are
#   make demo    a cloud from apt-get install and one preseed, and a VM on it (docs/cloud.md)
#   make check   install what the tests need, then run the whole test suite
# Both run as root on a fresh Debian 12 machine with nothing done by hand.
# make check-fresh runs make check of a fresh clone in a fresh Debian node.

# Maintainer scripts run under Debian's interpreter with Debian's libraries,
# so the tests do too: a venv on /usr/bin/python3 that sees them.
PYTHON := /usr/bin/python3
VENV := .venv
VPY := $(VENV)/bin/python

# Runtime libraries, from Debian's archive only.
DEBIAN_RUNTIME := python3-debian python3-debconf python3-sh \
	python3-pymysql python3-keystoneauth1 python3-yaml python3-psycopg2
# What the test suite and the benchmarks use besides them; ovmf for the
# image builder's QEMU command-line unit tests (they copy its variable stores).
DEBIAN_TEST := python3-venv python3-pip python3-sqlalchemy python3-oslo.config \
	debconf-utils dpkg-dev ovmf
# What building the toolkit's own packages needs (make deb, and its tests);
# dpkg-buildpackage refuses to build without build-essential.
DEBIAN_DEB := build-essential debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools \
	help2man lintian
# Maintainer script tests: apt-utils (preconfigure, so config runs twice),
# po-debconf and gettext (merge-templates and po2debconf), adduser.
DEBIAN_TEST_MAINT := apt-utils po-debconf gettext adduser
# Real servers for the database and message-queue tests, and Glance, Nova,
# Placement and Neutron for real schema migrations (the libraries only, so
# no Debian maintainer script runs; installed without recommends by ensure-debs).
DEBIAN_TEST_DB := mariadb-server postgresql rabbitmq-server python3-glance python3-oslo.messaging \
	python3-nova python3-placement python3-neutron
# Meta-packages: dpkg-deb and dpkg-scanpackages (flat repository), lintian.
DEBIAN_METAPKG := dpkg-dev lintian

# The same code must keep working with the newest PyPI releases of its
# runtime libraries (sh 2.x, keystoneauth1, pymysql, ...): these unit tests
# run a second time in a venv that sees only PyPI.
VENV_NEWEST := .venv-newest
PYPI_RUNTIME := sh python-debian pymysql keystoneauth1 pyyaml
# Every unit test but lint and those of the debconf facade (Debian's debconf
# module is not on PyPI); test-only libraries as the unit tests need them.
NEWEST_TESTS := tests/unit --ignore=tests/unit/test_lint.py \
	--ignore=tests/unit/test_debconf.py --ignore=tests/unit/test_maintscript.py \
	--ignore=tests/unit/test_rewire_debconf.py
PYPI_TEST := pytest hypothesis oslo.config oslo.messaging sqlalchemy

# Nodes (tests/nodes, docs/nodes.md): Debian 12 containers booted with
# systemd-nspawn. Without recommends: systemd-container's libnss-mymachines
# would add itself to the host's /etc/nsswitch.conf.
DEBIAN_NODES := systemd-container mmdebstrap iproute2 util-linux git

.PHONY: all check check-newest check-nodes check-fresh check-cloud check-multinode check-faults deps venv test lint bench bench-maintscript deb demo demo-clean demo-short demo-short-clean clean bench-keystone metapackages preseeds bench-preseed check-image bench-image check-e2e bench-glance archive bench-rewire bench-cloud
# A real Keystone for the Keystone tests, and the openstack CLI for its benchmark.
DEBIAN_TEST_KEYSTONE := python3-keystone uwsgi-core uwsgi-plugin-python3 python3-yaml python3-openstackclient

# The image builder's integration test and benchmark (make check-image):
# bootstrap, disk assembly from plain files, boot tests under QEMU.
DEBIAN_IMAGE := mmdebstrap debootstrap qemu-system-x86 qemu-utils ovmf seabios mtools \
	dosfstools fdisk e2fsprogs genisoimage openssl zstd python3-yaml
# The upload test's real Glance (and the Keystone it authenticates against).
DEBIAN_IMAGE_GLANCE := python3-glance python3-keystone uwsgi-core uwsgi-plugin-python3


all: check

deps:
	tools/ensure-debs $(DEBIAN_RUNTIME) $(DEBIAN_TEST) $(DEBIAN_DEB) $(DEBIAN_TEST_MAINT) $(DEBIAN_TEST_DB) $(DEBIAN_TEST_KEYSTONE) $(DEBIAN_METAPKG) $(DEBIAN_ARCHIVE)

$(VENV)/.installed: requirements-dev.txt setup.cfg pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: deps $(VENV)/.installed

# The whole suite: unit, lint and types, integration against real servers,
# then the library-facing unit tests again on the newest PyPI releases.
check: venv
	$(VPY) -m pytest tests --ignore=tests/integration/image --ignore=tests/integration/nodes \
		--ignore=tests/integration/cloud --ignore=tests/integration/faults --ignore=tests/integration/multinode
	$(MAKE) check-newest

$(VENV_NEWEST)/.installed: Makefile
	rm -rf $(VENV_NEWEST)
	$(PYTHON) -m venv $(VENV_NEWEST)
	$(VENV_NEWEST)/bin/pip install --quiet --disable-pip-version-check --upgrade \
		$(PYPI_RUNTIME) $(PYPI_TEST)
	touch $@

check-newest: deps $(VENV_NEWEST)/.installed
	$(VENV_NEWEST)/bin/python -m pytest -p no:cacheprovider $(NEWEST_TESTS)

# The dpkg tests alone (root): the toolkit's debs and lintian, profile-built
# packages, and Glance installed from a generated preseed against a
# throwaway MariaDB and a real Keystone. make check runs them too.
check-e2e: venv
	$(VPY) -m pytest tests/e2e

# Builds one minimal bookworm image (the bootstrapped tree is cached in
# .cache/image-tree), boots it with SeaBIOS, OVMF and OVMF + Secure Boot,
# and uploads an image to a real Glance. Needs root.
check-image: venv
	tools/ensure-debs $(DEBIAN_IMAGE) $(DEBIAN_IMAGE_GLANCE)
	$(VPY) -m pytest tests/integration/image

# The node machinery's own tests (root): systemd as PID 1, units, the
# bridge, apt through the proxy, nothing left after removal. -rP prints the
# boot time, memory and apt time they measure.
check-nodes: venv
	tools/ensure-debs $(DEBIAN_NODES)
	$(VPY) -m pytest -rP tests/integration/nodes

# Faults during a whole install (root, about 10 minutes): Debian's keystone,
# glance-common and glance-api, rewired, installed in a node from the signed
# archive (make archive) and a generated preseed; MariaDB, Keystone or
# RabbitMQ down during glance-common's postinst, a kill -9 of it during db
# sync, then dpkg --configure -a, and the node checked; a password rotation
# with dpkg-reconfigure. See docs/operators.md.
check-faults: venv
	tools/ensure-debs $(DEBIAN_NODES)
	$(VPY) -m pytest -rP --durations=0 tests/integration/faults

# make check of a fresh clone of HEAD (committed state only) as root in a
# fresh node: a missing install step fails here first. Output also in
# build/check-fresh.log; the exit status is make check's. Needs only the
# host's python3 (standard library) and the packages below.
check-fresh:
	tools/ensure-debs $(DEBIAN_NODES)
	$(PYTHON) -m tests.nodes check-fresh

bench-image: venv
	tools/ensure-debs $(DEBIAN_IMAGE)
	$(VPY) bench/image_build.py

lint: venv
	$(VPY) -m pytest tests/unit/test_lint.py

# The toolkit's own Debian packages, into build/deb/.
deb: deps
	tools/build-debs build/deb
	lintian --pedantic --fail-on error,warning,info,pedantic build/deb/*.deb

bench: venv
	$(VPY) bench/ini_vs_reference.py
	$(VPY) bench/db_provision.py

# dpkg phases of a profile-driven package (install, reconfigure, purge).
bench-maintscript: venv
	$(VPY) bench/maintscript_phases.py

# Glance installed from a generated preseed, phase by phase (root).
bench-glance: venv
	$(VPY) bench/glance_package.py

# Registering a service: the openstack CLI the reference's way vs. pkgos.
bench-keystone: venv
	$(VPY) bench/register_vs_cli.py

bench-preseed: venv
	$(VPY) bench/preseed_vs_reference.py

# Debian's stock keystone and glance-api against the rewired ones from the
# archive, installed from one generated preseed, each in a fresh node
# (pkgos-bnstock, then pkgos-bnrew; root). Says so and compares glance-api
# alone while the archive holds no rewired keystone.
bench-rewire: archive
	tools/ensure-debs $(DEBIAN_NODES)
	$(VPY) bench/stock_vs_rewired.py --archive build/archive

# The meta-packages, built from meta-packages/*.toml into build/meta-packages.
metapackages: venv
	$(VPY) -m openstack_pkg_tools metapkg build --definitions meta-packages --output build/meta-packages

# A signed flat apt repository in build/archive: Debian's own packages,
# downloaded into .cache/debs and rewired to the toolkit's maintainer
# scripts, with the toolkit's packages and the meta-packages. Only the
# packages whose every step a question family or their profile expresses
# are listed; `pkgos rewire --explain` says what any other lacks.
# neutron-server, empty and transitional, is kept: its exact
# relations then name the rewired neutron-api and neutron-rpc-server. The
# signing key stays in .cache/archive-key; apt needs the line the last
# command prints.
REWIRED_DEBIAN := keystone glance-common glance-api placement-common placement-api nova-common nova-api neutron-api nova-conductor \
	nova-scheduler nova-compute nova-compute-qemu nova-compute-kvm neutron-rpc-server neutron-linuxbridge-agent \
	neutron-dhcp-agent neutron-common neutron-metadata-agent neutron-server
# make check installs these too: the archive tests sign one (gpg needs its agent).
DEBIAN_ARCHIVE := gpg gpg-agent dpkg-dev po-debconf gettext
archive: venv deb metapackages
	tools/ensure-debs $(DEBIAN_ARCHIVE)
	mkdir -p .cache/debs build/archive
	# Debian's current stable updates: a package rewired from an older one depends on
	# python3-* versions Debian no longer serves, and sorts below the newer update.
	apt-get update -q
	cd .cache/debs && for p in $(REWIRED_DEBIAN); do \
		v=$$(apt-cache policy "$$p" | sed -n 's/^  Candidate: //p' | sed 's/:/%3a/'); \
		ls "$${p}_$${v}"_*.deb >/dev/null 2>&1 || apt-get download "$$p" || exit 2; \
		for old in "$${p}"_*.deb; do [ "$$old" = "$$(ls "$${p}_$${v}"_*.deb)" ] || rm -f "$$old"; done; done
	$(VPY) -m openstack_pkg_tools rewire $(foreach p,$(REWIRED_DEBIAN),.cache/debs/$(p)_*.deb) \
		--output-dir build/archive
	for deb in build/deb/*.deb build/meta-packages/*.deb; do \
		cmp -s "$$deb" "build/archive/$${deb##*/}" || cp "$$deb" build/archive/ || exit 2; done
	$(VPY) -m openstack_pkg_tools archive build/archive --key-dir .cache/archive-key

# The example preseeds, regenerated from preseed/example-site.toml (its
# password store is published on purpose and must be mode 0600 to be read).
preseeds: venv
	chmod 600 preseed/example-secrets.toml
	$(VPY) -m openstack_pkg_tools preseed generate preseed/example-site.toml --output-dir preseed

# A whole cloud in a node (docs/cloud.md): the archive (Debian's packages
# rewired, the toolkit's, the meta-packages) as the node's signed apt source,
# the all-in-one preseed of preseed/cloud-site.toml, apt-get install of the
# meta-packages, every unit and API checked, then a VM of pkgos build-image's
# image ACTIVE with DHCP and metadata in its console. The host's package
# lists are updated first, so that the archive rewires Debian's newest
# versions (an older rewired package would lose to Debian's update).
# The node stays up for a look until make demo-clean.
# NODES=3: a controller and two compute nodes instead (demo/multinode.py,
# docs/cloud.md "Three nodes"): each compute node joins with one apt-get
# install, a server on each reaches the other, one leaves and joins again.
DEBIAN_CLOUD := $(DEBIAN_NODES) $(DEBIAN_IMAGE) python3-openstackclient
NODES ?= 1
DEMO_MODULE = $(if $(filter 1,$(NODES)),demo.cloud,$(if $(filter 3,$(NODES)),demo.multinode,$(error NODES=$(NODES): make demo takes NODES=1 (all-in-one, the default) or NODES=3 (a controller and two compute nodes))))
demo:
	tools/ensure-debs $(DEBIAN_CLOUD)
	apt-get update -q
	$(MAKE) archive
	$(PYTHON) -m $(DEMO_MODULE) up

# Removes the demo's nodes: their processes, mounts, network namespaces and
# veths (and the bridge's namespace with the last node); nothing else.
demo-clean:
	$(PYTHON) -m $(DEMO_MODULE) clean

# make demo as a test (root): the same phases, the node removed at the end.
check-cloud: venv
	tools/ensure-debs $(DEBIAN_CLOUD)
	$(MAKE) archive
	$(VPY) -m pytest -rP tests/integration/cloud

# make demo NODES=3 as a test (root, about 25 minutes): three nodes, the
# joins, a server on each compute node, a leave and a rejoin, the nodes
# removed at the end.
check-multinode: venv
	tools/ensure-debs $(DEBIAN_CLOUD)
	$(MAKE) archive
	$(VPY) -m pytest -rP tests/integration/multinode

# make demo's phases twice from one preseed, up to the VM's metadata line
# (root, about 25 minutes): the archive's rewired packages in node
# pkgos-crew, then (crew removed) Debian's stock packages in pkgos-cstock,
# from build/archive-stock (the archive without its rewired packages).
# Time from apt-get install to the metadata line, memory, what stock asked
# and where it stopped; last line ratio=<stock/rewired> (docs/cloud.md).
bench-cloud: venv
	tools/ensure-debs $(DEBIAN_CLOUD)
	$(MAKE) archive
	$(VPY) bench/cloud.py

# The short demo: Keystone and Glance installed by apt-get from a preseed,
# served on 127.0.0.1 (see docs/demo.md); DB=mysql puts their databases in a
# local MariaDB. It needs only what building the toolkit's packages and the
# consumer packages takes; demo.py installs the rest with apt-get.
DB ?= sqlite
DEBIAN_DEMO := $(DEBIAN_DEB) po-debconf gettext git
demo-short:
	tools/ensure-debs $(DEBIAN_DEMO)
	$(PYTHON) demo/demo.py up --db $(DB)

# Stops the short demo's services and purges everything it installed,
# databases included.
demo-short-clean:
	$(PYTHON) demo/demo.py clean

clean:
	rm -rf $(VENV) $(VENV_NEWEST) .cache build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
