"""The printable completion certificate (certificate_pdf.py), read back with pypdf."""
import io
from datetime import date

from pypdf import PdfReader
from pypdf.generic import ContentStream

from setiakawan_training import certificate_pdf

URL = "https://setiakawan.example.go.id/certificates/K7QM-3XPA-9D"
CERTIFICATE = {"code": "K7QM-3XPA-9D", "course_title": "Menjahit Dasar", "skill_area": "sewing",
               "provider_agency": "Dinas Sosial Kabupaten Balangan", "partners": ["Balai Latihan Kerja Paringin"],
               "starts_on": date(2026, 11, 2), "ends_on": date(2026, 11, 27), "completed_on": date(2026, 12, 3)}


def read(url=URL, **changes):
    return PdfReader(io.BytesIO(certificate_pdf.render({**CERTIFICATE, **changes}, url)))


def text(reader):
    return reader.pages[0].extract_text()


def rectangles(reader):
    """The rectangles (``re`` operators) the page draws: the QR code's dark modules are most of them."""
    page = reader.pages[0]
    return [tuple(operands) for operands, op in ContentStream(page.get_contents(), reader).operations if op == b"re"]


def text_origins(reader):
    origins = []
    reader.pages[0].extract_text(visitor_text=lambda chunk, cm, tm, font, size:
                                 origins.append((tm[4], tm[5])) if chunk.strip() else None)
    return origins


def test_one_a4_landscape_page_titled_by_its_code_with_no_author():
    reader = read()
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert box.width > box.height
    assert (round(box.width), round(box.height)) == (842, 595)
    assert reader.metadata.title == "Sertifikat K7QM-3XPA-9D"
    assert not reader.metadata.author


def test_the_text_carries_the_certificate():
    content = text(read())
    for expected in ("SERTIFIKAT PELATIHAN", "Diberikan kepada / Awarded to:", "K7QM-3XPA-9D", "Menjahit Dasar",
                     "sewing", "Dinas Sosial Kabupaten Balangan", "bersama / with: Balai Latihan Kerja Paringin",
                     "2 November 2026", "27 November 2026", "3 Desember 2026", f"Periksa keaslian / Verify: {URL}"):
        assert expected in content


def test_no_partners_no_with_line():
    assert "bersama" not in text(read(partners=[]))


def test_markup_characters_in_a_title_come_back_literally():
    assert "Jahit & Bordir <b>Lanjutan</b> <i" in text(read(course_title="Jahit & Bordir <b>Lanjutan</b> <i"))


def test_a_long_title_wraps_whole_within_the_border():
    title = " ".join(f"keterampilan{i}" for i in range(25))[:300]
    assert len(title) == 300
    reader = read(course_title=title, provider_agency="Dinas Pemberdayaan Masyarakat dan Desa " * 4)
    assert len(reader.pages) == 1
    assert set(title.split()) <= set(text(reader).split())
    assert "…" not in text(reader).split("Bidang")[0]
    box = reader.pages[0].mediabox
    for x, y in text_origins(reader):  # centred lines: a line too wide starts left of the border
        assert 31 < x < box.width - 31 and 31 < y < box.height - 31


def test_the_page_draws_the_qr_code_of_the_verify_url(monkeypatch):
    drawn = rectangles(read())
    assert len(drawn) > 100
    assert rectangles(read(url=URL.replace("K7QM-3XPA-9D", "ZZ99-ZZ99-ZZ"))) != drawn
    monkeypatch.setattr(certificate_pdf.renderPDF, "draw", lambda *args, **kwargs: None)
    assert len(rectangles(read())) < 5
