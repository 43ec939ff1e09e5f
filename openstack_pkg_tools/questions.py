"""Every debconf question of the toolkit, declared once.

``TABLE`` holds each question with everything about it: its family, the
name after ``<prefix>/``, its debconf type, default, choices, priority, the
earlier answer it waits for, whether it is a secret forgotten after
postinst, whether a preseed must answer it, which package of a service
asks it, the name Debian's own packages give it where that differs, and,
for an asked setting, the directive its answer is written to and how the
answer is checked (``ASKED_SETTINGS`` adds each such family's fixed and
derived directives).

Everything else is derived from this table: the shared debconf templates
(``build/templates.py`` renders them), the order ``config`` asks in and
what ``postinst`` forgets (``maintscript/``), the names the plans read, the
types the preseed generator writes and what ``pkgos preseed check`` knows
(``preseed/``). A new family is one block of entries here, plus its plan
and its apply step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .debconf import Priority
from .keystone.model import DEFAULT_REGION
from .urls import Engine

if TYPE_CHECKING:
    # profile.py checks its [[asks]] against this module's families.
    from .profile import ServiceProfile


class Family(StrEnum):
    """The families of questions; a package asks whole families."""

    DB = "db"
    RABBIT = "rabbit"
    KSAT = "ksat"
    ENDPOINT = "endpoint"
    # Keystone's own package: its bootstrap, administrator and identity endpoints.
    KEYSTONE = "keystone"
    # Asked settings: answers written as directives into one config file of
    # the package a profile's [[asks]] names (see ASKED_SETTINGS).
    PLACEMENT = "placement"  # nova's [placement] credentials
    NEUTRON = "neutron"  # nova's [neutron] credentials, endpoint and metadata secret
    NOVA = "nova"  # neutron's [nova] credentials
    MY_IP = "my-ip"  # nova's [DEFAULT] my_ip
    METADATA = "metadata-agent"  # the metadata agent's secret and nova's metadata host
    LINUXBRIDGE = "linuxbridge"  # the linuxbridge agent's mappings and VXLAN


class Type(StrEnum):
    """debconf's question types that the toolkit uses."""

    BOOLEAN = "boolean"
    STRING = "string"
    PASSWORD = "password"  # noqa: S105 (a debconf type, not a secret)
    SELECT = "select"


class Asker(StrEnum):
    """Which package of a service asks a family's questions."""

    COMMON = "common"  # the profile's own package (glance-common, nova-common, keystone)
    CATALOG = "catalog"  # the package a catalog entry names (glance-api, neutron-api, heat-api-cfn)
    PROFILE = "profile"  # the packages the profile's [[asks]] entries name


class Condition(StrEnum):
    """Earlier answers a question depends on."""

    REMOTE_DB = "remote-db"  # the database server is not this machine
    CREATES_USER = "creates-user"  # postinst creates the service user in Keystone


class Need(StrEnum):
    """Whether a preseed for a node must answer a question."""

    OPTIONAL = "optional"
    ALWAYS = "always"
    SERVER = "server"  # unless the service's database is a local SQLite file


class Check(StrEnum):
    """How an asked setting's answer is checked before it is written."""

    TEXT = "text"  # not empty (a password is never quoted in the error)
    URL = "url"  # an http:// or https:// URL
    REGION = "region"  # a region name Keystone takes
    HOST = "host"  # an IP address or a DNS name
    ADDRESS = "address"  # this node's IP address; empty: the default route's
    BOOLEAN = "boolean"  # true or false
    MAPPINGS = "mappings"  # physnet:interface pairs, comma-separated; may be empty


class Phase(StrEnum):
    """The maintainer script that asks a question."""

    CONFIG = "config"
    PURGE = "purge"  # postrm purge: whether to drop the database


@dataclass(frozen=True)
class Question:
    """One debconf question, as every part of the toolkit sees it.

    ``default`` may hold ``{prefix}``, replaced by the package's prefix.
    ``description`` is the template's short description and ``extended``
    its long one: their words are the msgids of the translations in
    ``templates/po/``, so a change of wording needs new translations.
    ``debian_name`` is the name Debian 12's packages ask the same question
    under, where it differs (``{package}`` is the asking package).
    ``writes`` is the (section, key) an asked setting's answer is written
    to, in the config file the profile's ``[[asks]]`` names, after ``check``.
    """

    family: Family
    name: str
    type: Type
    description: str
    extended: str
    default: str = ""
    choices: tuple[str, ...] = ()
    priority: Priority = Priority.MEDIUM
    only_if: Condition | None = None
    switch: bool = False
    secret: bool = False
    need: Need = Need.OPTIONAL
    phase: Phase = Phase.CONFIG
    debian_name: str = ""
    writes: tuple[str, str] | None = None
    check: Check = Check.TEXT

    def full_name(self, prefix: str) -> str:
        """The question's debconf name for ``prefix``: ``glance/db-host``."""
        return f"{prefix}/{self.name}"

    def default_for(self, prefix: str) -> str:
        """The template's default for ``prefix``."""
        return self.default.replace("{prefix}", prefix)


PROTOCOLS = ("http", "https")
# The db-type answers: the engines urls.Engine writes URLs for.
DB_ENGINES = tuple(str(engine) for engine in Engine)
LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")

_DB, _RABBIT, _KSAT, _ENDPOINT, _KEYSTONE, _PLACEMENT, _NEUTRON, _NOVA, _MY_IP, _METADATA, _LB = Family
_B, _S, _P, _C = Type.BOOLEAN, Type.STRING, Type.PASSWORD, Type.SELECT
_HIGH, _LOW = Priority.HIGH, Priority.LOW


def _metadata_secret(family: Family, section: str) -> Question:
    """The secret nova's metadata API and the neutron metadata agent share (one answer for both)."""
    return Question(
        family,
        "metadata_secret",
        _P,
        "Shared secret of the metadata proxy:",
        "The neutron metadata agent and nova's metadata API sign their requests with it: give the "
        "same secret to both packages.",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=(section, "metadata_proxy_shared_secret"),
    )


TABLE: tuple[Question, ...] = (
    # -- db: the service's database, its user and the connection URL ----------
    Question(
        _DB,
        "configure_db",
        _B,
        "Set up a database for this package?",
        "Answer yes to have the database, its user and the connection URL in the configuration file "
        "created automatically. Answer no to leave the database settings as they are.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
        debian_name="{package}/dbconfig-install",
    ),
    Question(
        _DB,
        "db-type",
        _C,
        "Database engine:",
        "The kind of database server the service stores its data in. sqlite keeps everything in one "
        "local file and suits tests only.",
        default="mysql",
        choices=DB_ENGINES,
        priority=_HIGH,
        need=Need.ALWAYS,
        debian_name="{package}/database-type",
    ),
    Question(
        _DB,
        "db-host",
        _S,
        "Host name of the database server:",
        "An IPv4 or IPv6 address or a host name. With localhost, the database is created through the "
        "local socket.",
        default="localhost",
        priority=_HIGH,
        need=Need.SERVER,
        debian_name="{package}/remote/host",
    ),
    Question(
        _DB,
        "db-name",
        _S,
        "Name of the database:",
        "The database the service uses. It is created if it does not exist.",
        default="{prefix}",
        debian_name="{package}/db/dbname",
    ),
    Question(
        _DB,
        "db-user",
        _S,
        "Database user of the service:",
        "The user the service connects to its database as. It is created if it does not exist.",
        default="{prefix}",
        debian_name="{package}/db/app-user",
    ),
    Question(
        _DB,
        "db-password",
        _P,
        "Password of the database user:",
        "Leave this empty to have a random password generated and kept in the configuration file.",
        priority=_HIGH,
        debian_name="{package}/mysql/app-pass",
        secret=True,
    ),
    Question(
        _DB,
        "db-admin-user",
        _S,
        "Administrator of the database server:",
        "The account that may create databases and users. For a local server, root connects through "
        "the socket and needs no password.",
        default="root",
        only_if=Condition.REMOTE_DB,
        debian_name="{package}/mysql/admin-user",
    ),
    Question(
        _DB,
        "db-admin-password",
        _P,
        "Password of the database administrator:",
        "Needed only for a remote database server. It is not kept after the configuration is done.",
        priority=_HIGH,
        only_if=Condition.REMOTE_DB,
        secret=True,
        debian_name="{package}/mysql/admin-pass",
    ),
    Question(
        _DB,
        "purge-db",
        _B,
        "Remove the database when the package is purged?",
        "Answer yes to delete the database and its user, with all their data, when this package is purged.",
        default="false",
        priority=_HIGH,
        phase=Phase.PURGE,
        debian_name="{package}/purge",
    ),
    # -- rabbit: [DEFAULT] transport_url ----------------------------------------
    Question(
        _RABBIT,
        "configure_rabbit",
        _B,
        "Configure the connection to the message queue?",
        "Answer yes to write the transport URL of the RabbitMQ server into the configuration file. "
        "Answer no to leave it as it is.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _RABBIT,
        "rabbit-host",
        _S,
        "Host name of the RabbitMQ server:",
        "An IPv4 or IPv6 address or a host name.",
        default="localhost",
        priority=_HIGH,
        need=Need.ALWAYS,
    ),
    Question(
        _RABBIT,
        "rabbit-userid",
        _S,
        "RabbitMQ user name:",
        "The user the service connects to the message queue as.",
        default="guest",
        priority=_HIGH,
        need=Need.ALWAYS,
    ),
    Question(
        _RABBIT,
        "rabbit-password",
        _P,
        "RabbitMQ password:",
        "The password of the RabbitMQ user.",
        priority=_HIGH,
        need=Need.ALWAYS,
        secret=True,
    ),
    # -- ksat: [keystone_authtoken] and the service user -----------------------
    Question(
        _KSAT,
        "configure_ksat",
        _B,
        "Configure authentication against Keystone?",
        "Answer yes to write the keystone_authtoken section of the configuration file, so that the "
        "service checks the tokens of its clients with Keystone.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _KSAT,
        "ksat-public-url",
        _S,
        "Public URL of Keystone:",
        "The URL clients and services reach the identity service at, for example "
        "https://keystone.example.com:5000.",
        default="http://localhost:5000",
        priority=_HIGH,
        need=Need.ALWAYS,
    ),
    Question(
        _KSAT,
        "ksat-region",
        _S,
        "Keystone region:",
        "The region the service belongs to.",
        default=DEFAULT_REGION,
        need=Need.ALWAYS,
    ),
    Question(
        _KSAT,
        "ksat-service-username",
        _S,
        "User name of the service in Keystone:",
        "The user the service authenticates as.",
        default="{prefix}",
    ),
    Question(
        _KSAT,
        "ksat-service-project-name",
        _S,
        "Project of the service user:",
        "The project the service user belongs to.",
        default="service",
    ),
    Question(
        _KSAT,
        "ksat-service-password",
        _P,
        "Password of the service user in Keystone:",
        "It is written into the configuration file, readable only by the service.",
        priority=_HIGH,
        need=Need.ALWAYS,
        secret=True,
    ),
    Question(
        _KSAT,
        "ksat-create-service-user",
        _B,
        "Create the service user in Keystone?",
        "Answer yes to create the user the service authenticates as, with the service role in the "
        "service project. This needs the Keystone administrator's credentials.",
        default="true",
    ),
    Question(
        _KSAT,
        "ksat-admin-username",
        _S,
        "User name of the Keystone administrator:",
        "The administrator account used to create users and catalog entries.",
        default="admin",
        only_if=Condition.CREATES_USER,
    ),
    Question(
        _KSAT,
        "ksat-admin-project-name",
        _S,
        "Project of the Keystone administrator:",
        "The project the administrator account belongs to.",
        default="admin",
        only_if=Condition.CREATES_USER,
    ),
    Question(
        _KSAT,
        "ksat-admin-password",
        _P,
        "Password of the Keystone administrator:",
        "It is used once and not kept after the configuration is done.",
        priority=_HIGH,
        only_if=Condition.CREATES_USER,
        secret=True,
    ),
    # -- endpoint: the service and its endpoints in Keystone's catalog ---------
    Question(
        _ENDPOINT,
        "configure_api-endpoint",
        _B,
        "Register the service in the Keystone catalog?",
        "Answer yes to create the service and its public, internal and admin endpoints in Keystone, "
        "or to repair them if they exist with other URLs.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _ENDPOINT,
        "api-keystone-address",
        _S,
        "Address of the Keystone server:",
        "An IPv4 or IPv6 address or a host name.",
        default="127.0.0.1",
        priority=_HIGH,
        need=Need.ALWAYS,
    ),
    Question(
        _ENDPOINT,
        "api-keystone-proto",
        _C,
        "Protocol of the Keystone server:",
        "Whether Keystone is reached over http or https.",
        default="http",
        choices=PROTOCOLS,
    ),
    Question(
        _ENDPOINT,
        "api-keystone-admin-username",
        _S,
        "User name of the Keystone administrator:",
        "The administrator account used to create users and catalog entries.",
        default="admin",
        priority=_LOW,
    ),
    Question(
        _ENDPOINT,
        "api-keystone-admin-project-name",
        _S,
        "Project of the Keystone administrator:",
        "The project the administrator account belongs to.",
        default="admin",
        priority=_LOW,
    ),
    Question(
        _ENDPOINT,
        "api-keystone-admin-password",
        _P,
        "Password of the Keystone administrator:",
        "It is used once and not kept after the configuration is done.",
        priority=_HIGH,
        secret=True,
        need=Need.ALWAYS,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-address",
        _S,
        "Address of this service's endpoint:",
        "The IPv4 or IPv6 address or host name clients reach this service at. Empty means the address "
        "of the default route.",
        priority=_HIGH,
        need=Need.ALWAYS,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-proto",
        _C,
        "Protocol of this service's endpoint:",
        "Whether clients reach this service over http or https.",
        default="http",
        choices=PROTOCOLS,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-region-name",
        _S,
        "Region of the endpoints:",
        "The region the endpoints are registered in. It starts and ends with a letter, digit, "
        "underscore or dot and may contain dashes.",
        default=DEFAULT_REGION,
        need=Need.ALWAYS,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-public-url",
        _S,
        "Public URL of this service:",
        "Empty means the URL built from the address, protocol and the service's port and path.",
        priority=_LOW,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-internal-url",
        _S,
        "Internal URL of this service:",
        "Empty means the same URL as the public one.",
        priority=_LOW,
    ),
    Question(
        _ENDPOINT,
        "api-endpoint-admin-url",
        _S,
        "Admin URL of this service:",
        "Empty means the same URL as the public one.",
        priority=_LOW,
    ),
    # -- keystone: Keystone's own package, with Debian's question names --------
    Question(
        _KEYSTONE,
        "create-admin-tenant",
        _B,
        "Create the administrator account and bootstrap Keystone?",
        "Answer yes to create the administrator, its project and role, the region and the identity "
        "endpoints with keystone-manage bootstrap.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _KEYSTONE,
        "admin-user",
        _S,
        "User name of the Keystone administrator:",
        "The administrator account used to create users and catalog entries.",
        default="admin",
    ),
    Question(
        _KEYSTONE,
        "admin-email",
        _S,
        "Email address of the Keystone administrator:",
        "It is recorded with the administrator account.",
        default="root@localhost",
    ),
    Question(
        _KEYSTONE,
        "admin-password",
        _P,
        "Password of the Keystone administrator:",
        "It is used once and not kept after the configuration is done.",
        priority=_HIGH,
        secret=True,
        need=Need.ALWAYS,
    ),
    Question(
        _KEYSTONE,
        "admin-password-confirm",
        _P,
        "Password of the Keystone administrator, again:",
        "Type the same password again, to rule out a typing mistake.",
        priority=_HIGH,
        secret=True,
        need=Need.ALWAYS,
    ),
    Question(
        _KEYSTONE,
        "admin-role-name",
        _S,
        "Role of the Keystone administrator:",
        "The role the administrator has in its project.",
        default="admin",
    ),
    Question(
        _KEYSTONE,
        "admin-tenant-name",
        _S,
        "Project of the Keystone administrator:",
        "The project the administrator account belongs to.",
        default="admin",
    ),
    Question(
        _KEYSTONE,
        "register-endpoint",
        _B,
        "Register Keystone's own endpoints in its catalog?",
        "Answer yes to create the identity service and its public, internal and admin endpoints.",
        default="false",
    ),
    Question(
        _KEYSTONE,
        "endpoint-ip",
        _S,
        "Address of Keystone's endpoint:",
        "The IPv4 or IPv6 address or host name clients reach Keystone at. Empty means the address of "
        "the default route.",
    ),
    Question(
        _KEYSTONE,
        "endpoint-proto",
        _C,
        "Protocol of Keystone's endpoint:",
        "Whether clients reach Keystone over http or https.",
        default="http",
        choices=PROTOCOLS,
    ),
    Question(
        _KEYSTONE,
        "region-name",
        _S,
        "Region of Keystone's endpoints:",
        "The region the identity endpoints are registered in.",
        default=DEFAULT_REGION,
        need=Need.ALWAYS,
    ),
    # -- asked settings: answers written as directives (Debian's names) -------
    # nova's [placement]: how nova-compute and the scheduler reach placement.
    Question(
        _PLACEMENT,
        "configure_placement",
        _B,
        "Configure nova's access to the placement service?",
        "Answer yes to write the placement section of nova.conf: the user, project, password and "
        "region nova uses to reach placement. Keystone's address is the public URL answered for nova.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _PLACEMENT,
        "placement_admin_tenant_name",
        _S,
        "Project of the placement user:",
        "The project the user nova reaches placement as belongs to.",
        default="service",
        priority=_HIGH,
        writes=("placement", "project_name"),
    ),
    Question(
        _PLACEMENT,
        "placement_admin_username",
        _S,
        "User name nova reaches placement as:",
        "A Keystone user allowed to use the placement API, usually the placement service's own.",
        default="placement",
        priority=_HIGH,
        writes=("placement", "username"),
    ),
    Question(
        _PLACEMENT,
        "placement_admin_password",
        _P,
        "Password of the placement user:",
        "It is written into nova.conf, readable only by nova.",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("placement", "password"),
    ),
    Question(
        _PLACEMENT,
        "placement_os_region_name",
        _S,
        "Region of the placement service:",
        "The region placement's endpoints are registered in.",
        default=DEFAULT_REGION,
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("placement", "region_name"),
        check=Check.REGION,
    ),
    # nova's [neutron]: how nova reaches neutron, and the metadata proxy's secret.
    Question(
        _NEUTRON,
        "configure_neutron",
        _B,
        "Configure nova's access to the networking service?",
        "Answer yes to write the neutron section of nova.conf: neutron's URL, the user, project and "
        "password nova uses to reach it, and the secret shared with the neutron metadata agent.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _NEUTRON,
        "neutron_url",
        _S,
        "URL of the neutron server:",
        "The URL nova reaches the networking API at, for example http://controller:9696.",
        default="http://127.0.0.1:9696",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("neutron", "endpoint_override"),
        check=Check.URL,
    ),
    Question(
        _NEUTRON,
        "neutron_admin_tenant_name",
        _S,
        "Project of the neutron user:",
        "The project the user nova reaches neutron as belongs to.",
        default="service",
        writes=("neutron", "project_name"),
    ),
    Question(
        _NEUTRON,
        "neutron_admin_username",
        _S,
        "User name nova reaches neutron as:",
        "A Keystone user allowed to bind ports to hosts, usually the neutron service's own.",
        default="neutron",
        writes=("neutron", "username"),
    ),
    Question(
        _NEUTRON,
        "neutron_admin_password",
        _P,
        "Password of the neutron user:",
        "It is written into nova.conf, readable only by nova.",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("neutron", "password"),
    ),
    _metadata_secret(_NEUTRON, "neutron"),
    # neutron's [nova]: how neutron reports port events to nova.
    Question(
        _NOVA,
        "configure_nova",
        _B,
        "Configure neutron's access to the compute service?",
        "Answer yes to write the nova section of neutron.conf: Keystone's URL, the region, and the "
        "user, project and password neutron uses to send events to nova.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    Question(
        _NOVA,
        "nova_auth_url",
        _S,
        "Keystone URL for reaching nova:",
        "The URL neutron authenticates at before it calls nova, for example http://controller:5000.",
        default="http://127.0.0.1:5000",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("nova", "auth_url"),
        check=Check.URL,
    ),
    Question(
        _NOVA,
        "nova_region",
        _S,
        "Region of the compute service:",
        "The region nova's endpoints are registered in.",
        default=DEFAULT_REGION,
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("nova", "region_name"),
        check=Check.REGION,
    ),
    Question(
        _NOVA,
        "nova_service_project_name",
        _S,
        "Project of the nova user:",
        "The project the user neutron reaches nova as belongs to.",
        default="service",
        writes=("nova", "project_name"),
    ),
    Question(
        _NOVA,
        "nova_service_username",
        _S,
        "User name neutron reaches nova as:",
        "A Keystone user allowed to send server events, usually the nova service's own.",
        default="nova",
        writes=("nova", "username"),
    ),
    Question(
        _NOVA,
        "nova_service_password",
        _P,
        "Password of the nova user:",
        "It is written into neutron.conf, readable only by neutron.",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("nova", "password"),
    ),
    # nova's [DEFAULT] my_ip: asked on every configure, as Debian does.
    Question(
        _MY_IP,
        "my-ip",
        _S,
        "IP address of this compute node:",
        "nova uses it for the node's own services (consoles, migrations). Empty means the address of "
        "the default route.",
        priority=_HIGH,
        writes=("DEFAULT", "my_ip"),
        check=Check.ADDRESS,
    ),
    # The metadata agent's file: the secret shared with nova, and nova's metadata host.
    Question(
        _METADATA,
        "configure",
        _B,
        "Configure the neutron metadata agent?",
        "Answer yes to write the secret shared with nova and the host of nova's metadata API into "
        "metadata_agent.ini.",
        default="false",
        priority=_HIGH,
        switch=True,
        need=Need.ALWAYS,
    ),
    _metadata_secret(_METADATA, "DEFAULT"),
    Question(
        _METADATA,
        "nova_metadata_host",
        _S,
        "Host of nova's metadata API:",
        "An IPv4 or IPv6 address or a host name.",
        default="127.0.0.1",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("DEFAULT", "nova_metadata_host"),
        check=Check.HOST,
    ),
    # The linuxbridge agent (Debian asks nothing): per-host mappings and VXLAN.
    Question(
        _LB,
        "linuxbridge-physical-interface-mappings",
        _S,
        "Physical networks of the linuxbridge agent:",
        "Comma-separated pairs of a physical network name and this host's interface, for example "
        "provider:eth1. Empty means no flat or VLAN network on this host.",
        priority=_HIGH,
        need=Need.ALWAYS,
        writes=("linux_bridge", "physical_interface_mappings"),
        check=Check.MAPPINGS,
    ),
    Question(
        _LB,
        "linuxbridge-enable-vxlan",
        _B,
        "Carry self-service networks over VXLAN?",
        "Answer yes to let the linuxbridge agent make VXLAN tunnels between the hosts.",
        default="true",
        writes=("vxlan", "enable_vxlan"),
        check=Check.BOOLEAN,
    ),
    Question(
        _LB,
        "linuxbridge-local-ip",
        _S,
        "IP address of this host's VXLAN tunnels:",
        "The address the other hosts reach this one's tunnels at. Empty means the address of the "
        "default route.",
        writes=("vxlan", "local_ip"),
        check=Check.ADDRESS,
    ),
)

ASKER: Mapping[Family, Asker] = {
    Family.DB: Asker.COMMON,
    Family.RABBIT: Asker.COMMON,
    Family.KSAT: Asker.COMMON,
    Family.ENDPOINT: Asker.CATALOG,
    Family.KEYSTONE: Asker.COMMON,
    **{family: Asker.PROFILE for family in (_PLACEMENT, _NEUTRON, _NOVA, _MY_IP, _METADATA, _LB)},
}


@dataclass(frozen=True)
class Derived:
    """A directive whose value is another answer of the same package (``ksat-public-url``)."""

    section: str
    key: str
    family: Family
    question: str
    check: Check


@dataclass(frozen=True)
class AskedSettings:
    """What an asked-settings family writes besides its answers: fixed and derived directives."""

    fixed: tuple[tuple[str, str, str], ...] = ()
    derived: tuple[Derived, ...] = ()


def _password_auth(section: str) -> tuple[tuple[str, str, str], ...]:
    """The keystoneauth options a service user's password login needs in ``section``."""
    return (
        (section, "auth_type", "password"),
        (section, "user_domain_name", "Default"),
        (section, "project_domain_name", "Default"),
    )


def _from_ksat(section: str, key: str, question: str, check: Check) -> Derived:
    return Derived(section, key, _KSAT, question, check)


# Every family a profile's [[asks]] can name, and what it writes beyond its questions.
ASKED_SETTINGS: Mapping[Family, AskedSettings] = {
    _PLACEMENT: AskedSettings(
        fixed=_password_auth("placement"),
        derived=(_from_ksat("placement", "auth_url", "ksat-public-url", Check.URL),),
    ),
    _NEUTRON: AskedSettings(
        fixed=(*_password_auth("neutron"), ("neutron", "service_metadata_proxy", "true")),
        derived=(
            _from_ksat("neutron", "auth_url", "ksat-public-url", Check.URL),
            _from_ksat("neutron", "region_name", "ksat-region", Check.REGION),
        ),
    ),
    _NOVA: AskedSettings(fixed=_password_auth("nova")),
    _MY_IP: AskedSettings(),
    _METADATA: AskedSettings(),
    _LB: AskedSettings(),
}


def of_family(family: Family) -> tuple[Question, ...]:
    """The questions of ``family``, in the order ``config`` asks them."""
    return tuple(question for question in TABLE if question.family is family)


def directives_of(family: Family) -> tuple[tuple[str, str], ...]:
    """The (section, key) pairs an asked-settings family writes: its answers', fixed and derived."""
    asked = ASKED_SETTINGS[family]
    return (
        *(question.writes for question in of_family(family) if question.writes is not None),
        *((section, key) for section, key, _ in asked.fixed),
        *((derived.section, derived.key) for derived in asked.derived),
    )


def switch_of(family: Family) -> Question | None:
    """The yes/no question that opens ``family``; the others are asked only after a yes.

    None for a family asked and applied on every configure (``my-ip``).
    """
    return next((question for question in of_family(family) if question.switch), None)


def needs_address(family: Family) -> bool:
    """Whether ``family``'s plan needs the default route's address (for an empty answer)."""
    return family in (Family.ENDPOINT, Family.KEYSTONE) or any(
        question.check is Check.ADDRESS for question in of_family(family)
    )


def details_of(family: Family) -> tuple[Question, ...]:
    """The questions ``config`` asks after a yes to the family's switch."""
    return tuple(q for q in of_family(family) if not q.switch and q.phase is Phase.CONFIG)


def by_name(family: Family, name: str) -> Question:
    """The question ``name`` of ``family`` (a KeyError names a question the table lacks)."""
    for question in of_family(family):
        if question.name == name:
            return question
    raise KeyError(f"{family}/{name}")


def holds(condition: Condition, answer: Callable[[str], str]) -> bool:
    """Whether ``condition`` holds, given the answers so far (by name without prefix)."""
    if condition is Condition.REMOTE_DB:
        return answer("db-type") != "sqlite" and answer("db-host").strip() not in LOCAL_HOSTS
    return answer("ksat-create-service-user") == "true"


def families(profile: ServiceProfile, package: str) -> tuple[Family, ...]:
    """The question families ``package``'s scripts handle.

    The package that bootstraps Keystone registers Keystone's catalog entry
    with the bootstrap (its own family), not with the endpoint family.
    """
    common = package == profile.package
    bootstraps = common and profile.bootstrap is not None
    wanted = [
        (Family.DB, common and bool(profile.databases)),
        (Family.RABBIT, common and profile.messaging is not None),
        (Family.KSAT, common and profile.authtoken is not None),
        (Family.ENDPOINT, bool(profile.catalog_for(package)) and not bootstraps),
        (Family.KEYSTONE, bootstraps),
    ]
    asked = tuple(Family(entry.family) for entry in profile.asks_for(package))
    return tuple(family for family, needed in wanted if needed) + asked


def prefix_of(profile: ServiceProfile, package: str) -> str:
    """The prefix ``package``'s questions carry: its catalog entry's, else its ``[[asks]]``', else
    the profile's.

    Debian gives heat-api-cfn its own prefix (``heat-api-cfn/``), while
    heat-common and heat-api ask under ``heat/``; neutron-metadata-agent
    asks under ``neutron-metadata/``. The profile checks that a package has
    one prefix.
    """
    entries = profile.catalog_for(package)
    asks = profile.asks_for(package)
    return entries[0].prefix if entries else asks[0].prefix if asks else profile.prefix


def owner_of(profile: ServiceProfile, family: Family) -> tuple[str, ...]:
    """The packages of ``profile`` that ask ``family``: its own package, or its catalog packages."""
    if ASKER[family] is Asker.COMMON:
        return (profile.package,)
    if ASKER[family] is Asker.PROFILE:
        return tuple(dict.fromkeys(entry.package for entry in profile.asks if entry.family == family))
    return tuple(dict.fromkeys(entry.package for entry in profile.catalog))
