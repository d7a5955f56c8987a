"""Settings a service cannot start without. Nothing secret has a default:
a service refuses to start, naming what is missing and the environment
variable its ``config.yaml`` reads it from, rather than run with a value
anyone can read in the repository."""
import os
import re
import urllib.parse
from functools import partial
from pathlib import Path

import yaml

from . import auth

PRODUCTION = "production"

#: setting -> what it is and how an operator makes it
REQUIRED = {
    "AMQP_URI": "the service's own broker account; 'setiakawan broker setup' makes it",
    "TOKEN_ISSUERS": "the JWKS (path or URL) of each trusted token issuer; 'setiakawan keys init' makes one",
    "DATABASE_URL": "the PostgreSQL server",
    "DATABASE_NAME": "the service's database",
}

_ENV_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):\s*\$\{([A-Za-z_][A-Za-z0-9_]*)", re.M)


def production():
    return os.environ.get("SETIAKAWAN_ENV", "").strip().lower() == PRODUCTION


class _ConfigLoader(yaml.SafeLoader):
    """YAML whose ``${VAR}`` and ``${VAR:default}`` are read from the
    environment, as ``nameko run`` reads a config file. nameko's own parser
    is in ``nameko.cli.main``, which imports ``pkg_resources``: setuptools 81
    dropped it and Python 3.12+ virtual environments carry no setuptools."""


#: nameko's pattern (the one it uses without the ``regex`` module)
_ENV_VAR = re.compile(r"\$\{([^}:\s]+):?([^}]+)?\}")


def _from_environment(loader, node, raw=False):
    text = loader.construct_scalar(node)
    value = _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), text)
    if value == text:
        return value
    return value if raw else yaml.safe_load(value)


_ConfigLoader.add_constructor("!env_var", _from_environment)
_ConfigLoader.add_constructor("!raw_env_var", partial(_from_environment, raw=True))
_ConfigLoader.add_implicit_resolver("!env_var", re.compile(r".*\$\{.*\}.*"), None)


def load_config(path):
    """A nameko config file, ``${VAR:default}`` read from the environment
    as ``nameko run`` reads it."""
    with open(path) as config_file:
        return yaml.load(config_file, Loader=_ConfigLoader) or {}


def environment_names(path):
    """Which environment variable each top-level setting of a config file reads."""
    try:
        return dict(_ENV_REFERENCE.findall(Path(path).read_text()))
    except OSError:
        return {}


def missing(config, env_names=None, is_production=None):
    """What keeps a service with ``config`` from starting, one phrase each."""
    env_names = env_names or {}
    is_production = production() if is_production is None else is_production
    found = []

    def named(key):
        var = env_names.get(key)
        return f"{key} (environment variable {var})" if var else key

    for key, meaning in REQUIRED.items():
        if config.get(key) in (None, ""):
            found.append(f"{named(key)} is not set: {meaning}")
    issuers = config.get("TOKEN_ISSUERS")
    if issuers not in (None, ""):
        try:
            locations = auth.jwks_locations(auth.issuers_setting(issuers))
        except ValueError as exc:
            found.append(f"{named('TOKEN_ISSUERS')}: {exc}")
        else:
            for issuer, location in locations.items():
                if not location.startswith(("https://", "http://")) and not Path(location).is_file():
                    found.append(f"{named('TOKEN_ISSUERS')}: the JWKS of issuer {issuer!r}, {location}, "
                                 "does not exist")
    amqp_uri = config.get("AMQP_URI")
    if is_production and amqp_uri:
        user = urllib.parse.unquote(urllib.parse.urlsplit(str(amqp_uri)).username or "guest")
        if user == "guest":
            found.append(f"{named('AMQP_URI')} logs in as guest: give the service its own broker account "
                         "('setiakawan broker setup')")
    return found
