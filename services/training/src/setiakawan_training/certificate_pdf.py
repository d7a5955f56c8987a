"""A training completion certificate as a printable one-page PDF (A4 landscape).

The training service holds no names (personal data stays in the registry), so the
certificate leaves a ruled line on which the provider writes the participant's name by
hand at the hand-over.
"""
import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
WIDTH, HEIGHT = landscape(A4)
TEXT_WIDTH = 500  # the middle column, clear of the QR code at the bottom right
QR_SIZE = 110


def _indonesian_date(day):
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _fit(text, font, size, min_size, width, max_lines):
    """The largest size from ``size`` down to ``min_size`` at which ``text`` wraps into
    ``max_lines`` lines of ``width``, and those lines; at ``min_size`` the text is cut."""
    while True:
        lines = simpleSplit(text, font, size, width)
        fits = len(lines) <= max_lines and all(stringWidth(line, font, size) <= width for line in lines)
        if fits or size <= min_size:
            break
        size -= 1
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " …"
    for i, line in enumerate(lines):
        # a word wider than the column has no space to break at
        while len(line) > 1 and stringWidth(line, font, size) > width:
            line = line[:-2] + "…"
        lines[i] = line
    return size, lines


def _centred(c, top, text, font, size, min_size=None, width=TEXT_WIDTH, max_lines=1, leading=1.3):
    """Draws ``text`` centred below ``top``, wrapped (and shrunk down to ``min_size``); returns its bottom."""
    size, lines = _fit(text, font, size, min_size or size, width, max_lines)
    c.setFont(font, size)
    for line in lines:
        c.drawCentredString(WIDTH / 2, top - size, line)
        top -= size * leading
    return top


def _qr(c, x, y, value):
    widget = QrCodeWidget(value, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def render(certificate, verify_url):
    """The certificate ``certificate`` (code, course_title, skill_area, provider_agency, partners,
    starts_on, ends_on, completed_on) as PDF bytes, with a QR code of ``verify_url``."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    c.setTitle(f"Sertifikat {certificate['code']}")
    c.setAuthor("")
    c.setSubject("Sertifikat pelatihan / Certificate of completion")
    c.setCreator("Setiakawan")

    c.setLineWidth(2.5)
    c.rect(24, 24, WIDTH - 48, HEIGHT - 48)
    c.setLineWidth(0.8)
    c.rect(31, 31, WIDTH - 62, HEIGHT - 62)

    y = _centred(c, HEIGHT - 58, "SERTIFIKAT PELATIHAN", "Helvetica-Bold", 32)
    y = _centred(c, y, "Certificate of completion", "Helvetica-Oblique", 13)
    y = _centred(c, y - 18, "Diberikan kepada / Awarded to:", "Helvetica", 12)
    c.line(WIDTH / 2 - 220, y - 30, WIDTH / 2 + 220, y - 30)
    y = _centred(c, y - 48, "telah menyelesaikan pelatihan / has completed the course", "Helvetica", 12)
    y = _centred(c, y, certificate["course_title"], "Helvetica-Bold", 22, 12, WIDTH - 200, 4, leading=1.2)
    y = _centred(c, y - 10, f"Bidang keterampilan / Skill area: {certificate['skill_area']}", "Helvetica", 11, 8)
    y = _centred(c, y, f"Penyelenggara / Provider: {certificate['provider_agency']}", "Helvetica", 11, 8,
                 max_lines=2)
    if certificate["partners"]:
        y = _centred(c, y, "bersama / with: " + ", ".join(certificate["partners"]), "Helvetica", 10, 7,
                     max_lines=2)
    held = f"{_indonesian_date(certificate['starts_on'])} s.d. {_indonesian_date(certificate['ends_on'])}"
    y = _centred(c, y, f"Pelaksanaan / Held: {held}", "Helvetica", 11)
    _centred(c, y, f"Diselesaikan pada / Completed on: {_indonesian_date(certificate['completed_on'])}",
             "Helvetica", 11)

    c.setFont("Helvetica", 9)
    c.drawString(60, 112, "Kode verifikasi / Verification code:")
    c.setFont("Courier-Bold", 26)
    c.drawString(60, 80, certificate["code"])

    qr_x = WIDTH - 56 - QR_SIZE
    _qr(c, qr_x, 66, verify_url)
    line = f"Periksa keaslian / Verify: {verify_url}"
    size, (line,) = _fit(line, "Helvetica", 8, 5, WIDTH - 120, 1)
    c.setFont("Helvetica", size)
    c.drawRightString(qr_x + QR_SIZE, 52, line)

    c.showPage()
    c.save()
    return buffer.getvalue()
