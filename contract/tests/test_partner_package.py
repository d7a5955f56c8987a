"""A partner installs the contract alone and registers event types of its
own from its own package. Run in a Python that sees only the contract, what
it depends on and the partner's package (no nameko, eventlet or kombu on
its path): the partner's types are known without anyone importing the
partner's module, so whether a message is valid never depends on import
order."""
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

DEPENDENCIES = ("marshmallow", "fastjsonschema", "apispec", "packaging", "yaml")

PARTNER_MODULE = '''
from marshmallow import Schema, fields
from setiakawan_contract import event_types


class Enrolled(Schema):
    beneficiary_ref = fields.UUID(required=True)
    programme = fields.String(required=True)


ENROLLED = event_types.define(
    "beneficiary.enrolled", "partner-wahana", Enrolled, description="A household joins a programme.",
    example={"beneficiary_ref": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11", "programme": "Sekolah Lapang Tani"})
'''

CHECK = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from setiakawan_contract import event_types, make_event, wire
from setiakawan_contract.__main__ import describe

partner = event_types.by_dataschema("urn:setiakawan:partner-wahana:beneficiary.enrolled:v1")
event = make_event(partner, "b-1", partner.example, service="partner-wahana", agency="Wahana Visi Indonesia")
read = wire.from_message(*wire.to_message(event))
ping = event_types.by_dataschema("urn:setiakawan:partner-wahana:diagnostic.ping:v1")
print(json.dumps({
    "data": read.data, "source": read.source, "ping": ping.name,
    "verified": event_types.get("registry", "household.verified").version,
    "published": sorted(i["type"] for i in describe() if i["source"] == "partner-wahana"),
    "loaded": sorted(m for m in ("nameko", "eventlet", "kombu", "setiakawan_kit") if m in sys.modules),
}))
'''


def _link(target, link):
    link.symlink_to(target, target_is_directory=Path(target).is_dir())


@pytest.fixture
def contract_only(tmp_path):
    """A folder holding the contract, its dependencies and a partner's
    package, each with the metadata Python reads entry points from."""
    site = tmp_path / "site"
    site.mkdir()
    for name in DEPENDENCIES:
        _link(Path(importlib.util.find_spec(name).origin).parent, site / name)
    contract = importlib.util.find_spec("setiakawan_contract")
    _link(Path(contract.origin).parent, site / "setiakawan_contract")
    metadata = importlib.metadata.distribution("setiakawan-contract")
    info = site / "setiakawan_contract-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(metadata.read_text("METADATA"))
    (info / "entry_points.txt").write_text(metadata.read_text("entry_points.txt"))
    (site / "wahana_contract").mkdir()
    (site / "wahana_contract" / "__init__.py").write_text(PARTNER_MODULE)
    partner = site / "wahana_contract-1.0.dist-info"
    partner.mkdir()
    (partner / "METADATA").write_text("Metadata-Version: 2.1\nName: wahana-contract\nVersion: 1.0\n")
    (partner / "entry_points.txt").write_text("[setiakawan.contracts]\nwahana = wahana_contract\n")
    return site


def test_a_partner_registers_its_own_event_types_without_nameko(contract_only):
    # -I -S: no site-packages, no environment: only the standard library and that folder
    result = subprocess.run([sys.executable, "-I", "-S", "-c", CHECK, str(contract_only)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["data"] == {"beneficiary_ref": "7c0e7a34-5f55-4a4a-8d59-7e2f7c2a0a11",
                            "programme": "Sekolah Lapang Tani"}
    assert seen["source"] == "/setiakawan/partner-wahana"
    assert seen["ping"] == "diagnostic.ping"  # any service, ours or a partner's, may send one
    assert seen["verified"] == 2
    assert seen["published"] == ["beneficiary.enrolled"]
    assert seen["loaded"] == []


def test_the_contract_declares_no_dependency_on_the_kit_or_nameko():
    requires = importlib.metadata.requires("setiakawan-contract")
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0].strip().lower() for r in requires) == \
        ["apispec", "fastjsonschema", "marshmallow", "pyyaml"]
