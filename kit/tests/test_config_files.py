"""Config files read as ``nameko run`` reads them, without importing nameko's
command-line module (it needs ``pkg_resources``, absent on Python 3.12+)."""
import subprocess
import sys
from importlib.metadata import entry_points
from textwrap import dedent

import pytest
import yaml

from setiakawan_kit import settings

CONFIG = dedent("""\
    AMQP_URI: ${TEST_AMQP_URI}
    ADDRESS: ${TEST_ADDRESS:127.0.0.1:8001}
    WORKERS: ${TEST_WORKERS:10}
    EMPTY: ${TEST_EMPTY:}
    NESTED:
      delay_ms: ${TEST_DELAY:1000}
    RAW: !raw_env_var ${TEST_WORKERS:10}
    MIXED: prefix-${TEST_NAME:x}-suffix
    PLAIN: 7
""")


def _service_configs():
    return [ep.load().config for ep in entry_points(group="setiakawan.services")]


def _nameko_load(path):
    main = pytest.importorskip("nameko.cli.main", exc_type=ImportError)

    class Loader(yaml.SafeLoader):  # nameko's constructors, without changing yaml.SafeLoader for others
        pass

    Loader.add_constructor("!env_var", main.env_var_constructor)
    Loader.add_constructor("!raw_env_var", lambda loader, node: main.env_var_constructor(loader, node, raw=True))
    Loader.add_implicit_resolver("!env_var", main.IMPLICIT_ENV_VAR_MATCHER, None)
    with open(path) as config_file:
        return yaml.load(config_file, Loader=Loader)


def test_config_values_come_from_the_environment_or_their_default(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("TEST_ADDRESS", "0.0.0.0:9000")
    monkeypatch.setenv("TEST_WORKERS", "3")
    monkeypatch.delenv("TEST_AMQP_URI", raising=False)
    assert settings.load_config(path) == {
        "AMQP_URI": None, "ADDRESS": "0.0.0.0:9000", "WORKERS": 3, "EMPTY": None, "NESTED": {"delay_ms": 1000},
        "RAW": "3", "MIXED": "prefix-x-suffix", "PLAIN": 7}
    assert yaml.safe_load("a: ${TEST_WORKERS:10}") == {"a": "${TEST_WORKERS:10}"}  # others' YAML left alone


@pytest.mark.parametrize("environ", [{}, {"TEST_AMQP_URI": "pyamqp://u:p@h:5672/v", "TEST_WORKERS": "4",
                                          "TEST_NAME": "y", "TEST_EMPTY": "", "REGISTRY_HTTP_ADDRESS": "0.0.0.0:8101",
                                          "REGISTRY_WORKERS": "2", "SETIAKAWAN_TOKEN_ISSUERS": "/x/jwks.json"}])
def test_config_files_read_as_nameko_run_reads_them(tmp_path, monkeypatch, environ):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    for config in [path, *_service_configs()]:
        assert settings.load_config(config) == _nameko_load(config), config


def test_the_runner_starts_services_without_pkg_resources():
    # what Python 3.12+ environments (no setuptools) and setuptools 81+ give
    code = ("import sys; sys.modules['pkg_resources'] = None\n"
            "from setiakawan_kit import runner, settings\n"
            "from nameko.cli.run import import_service\n"
            "for ep in entry_points(group='setiakawan.services'):\n"
            "    info = ep.load(); settings.load_config(info.config); import_service(info.module)\n")
    result = subprocess.run([sys.executable, "-c", "from importlib.metadata import entry_points\n" + code],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
