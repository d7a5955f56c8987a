"""Column mappings (rules/mappings.py): an export's headers and codes as the import's columns."""
import pytest

from setiakawan_registry.rules import households as hh
from setiakawan_registry.rules import mappings, welfare
from setiakawan_registry.rules.rows import COLUMNS, HeaderError

DTKS_HEADER = ["NO_KK", "NIK", "NAMA", "TGL_LAHIR", "JENIS_KELAMIN", "HUB_KELUARGA", "KODE_DESA", "ALAMAT", "RT",
               "RW", "PENGHASILAN", "LANTAI", "DINDING", "ATAP", "PENERANGAN", "AIR_MINUM", "JAMBAN", "ASET",
               "PEKERJAAN", "PENDIDIKAN", "DISABILITAS", "NO_HP", "NAMA_IBU"]
DTKS_ROW = ["6213010107200001", "6213014107850003", "Siti Aminah", "01-07-1985", "2", "1", "6213012003",
            "Jl. Tjilik Riwut No. 5", "001", "002", "1200000", "Papan", "Kayu", "Seng", "PLN 450",
            "Sumur Terlindung", "Bersama", "motorcycle", "pedagang", "SMA", "Tidak Ada", "0812-3456-7890", "Rusmini"]


def test_the_dtks_export_becomes_the_import_s_row():
    positions = mappings.plan(mappings.DTKS, DTKS_HEADER)
    row = dict(zip(COLUMNS, mappings.convert(mappings.DTKS, positions, DTKS_ROW)))
    assert row == {
        "kk_number": "6213010107200001", "street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002",
        "village_code": "6213012003", "monthly_income": "1200000", "floor": "wood", "wall": "wood", "roof": "zinc",
        "electricity": "pln_450", "water": "protected_well", "sanitation": "shared", "assets": "motorcycle",
        "legal_basis": "public_duty", "consent_date": "", "consent_recorded_by": "", "nik": "6213014107850003",
        "name": "Siti Aminah", "birth_date": "01-07-1985", "sex": "F", "relationship": "head",
        "disability": "none", "occupation": "pedagang", "education": "SMA", "phone": "0812-3456-7890"}


def test_the_built_in_codes_lead_to_values_the_rules_accept():
    for column, choices in welfare.CHOICES.items():
        assert set(mappings.DTKS.values[column].values()) <= set(choices), column
    assert set(mappings.DTKS.values["relationship"].values()) <= set(hh.RELATIONSHIPS)
    assert set(mappings.DTKS.values["disability"].values()) <= set(hh.DISABILITIES)
    assert set(mappings.DTKS.values["education"].values()) <= set(hh.EDUCATION)


def test_unmapped_required_columns_are_all_named_before_any_row_is_read():
    with pytest.raises(HeaderError) as caught:
        mappings.plan(mappings.DTKS, ["NIK", "NAMA", "ALAMAT"])
    message = str(caught.value)
    for column in ("kk_number", "village_code", "monthly_income", "birth_date", "sex", "relationship"):
        assert column in message
    assert "legal_basis" not in message  # the mapping defaults it


def test_headers_that_name_registry_columns_need_no_entry_and_case_does_not_matter():
    mapping = mappings.from_spec("No KK=kk_number, nama lengkap=name")
    header = [" NO KK ", "NAMA LENGKAP", *[c.upper() for c in COLUMNS if c not in ("kk_number", "name")], "x"]
    positions = mappings.plan(mapping, header)
    assert positions[COLUMNS.index("kk_number")] == 0 and positions[COLUMNS.index("name")] == 1


@pytest.mark.parametrize("document, complaint", [
    ({"columns": {"NIK": "nomor"}}, "Not registry columns: nomor"),
    ({"values": {"agama": {"1": "x"}}}, "Not registry columns: agama"),
    ({"values": {"sex": {"1": 1}}}, "values.sex maps"),
    ({"columns": ["NIK"]}, "objects"),
    ({"colums": {}}, "an object with columns"),
    ([], "an object with columns")])
def test_a_mapping_that_cannot_be_one_says_why(document, complaint):
    with pytest.raises(mappings.MappingError) as caught:
        mappings.from_document(document)
    assert complaint in str(caught.value)


@pytest.mark.parametrize("spec", ["", "NIK", "=nik", "NIK=nik,NAMA"])
def test_a_command_line_mapping_is_header_equals_column_pairs(spec):
    with pytest.raises(mappings.MappingError):
        mappings.from_spec(spec)
