"""PDF documents written byte by byte for the tests: text reports with metadata, a scan (an image
and no text), an encrypted one, broken and hostile ones. Nothing is copied from real files."""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence

REPORT_PARAGRAPHS = (
    "The audit office reviewed how regional councils spent reconstruction grants in the last year.",
    "Councils that published their tenders online paid on average eleven percent less for the same works.",
    "The report recommends that every grant above one million hryvnias be tendered in the open system.",
    "It also finds that half of the repaired schools still lack shelters that meet the new standard.",
    "Auditors visited forty towns and compared the signed contracts with the work actually done on site.",
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(lines: Sequence[str]) -> bytes:
    """A page content stream that prints the lines top to bottom in Helvetica."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "60 780 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


class _Builder:
    """Numbered objects and a correct cross-reference table."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes | str) -> int:
        self.objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(self.objects)

    def reserve(self) -> int:
        self.objects.append(b"null")
        return len(self.objects)

    def set(self, number: int, body: bytes | str) -> None:
        self.objects[number - 1] = body.encode("latin-1") if isinstance(body, str) else body

    @staticmethod
    def stream(data: bytes, extra: str = "", *, compress: bool = False) -> bytes:
        if compress:
            data = zlib.compress(data, 9)
            extra += " /Filter /FlateDecode"
        return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"

    def build(self, root: int, info: int | None = None) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(out.tell())
            out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode())
        for offset in offsets:
            out.write(f"{offset:010d} 00000 n \n".encode())
        trailer = f"<< /Size {len(self.objects) + 1} /Root {root} 0 R"
        if info:
            trailer += f" /Info {info} 0 R"
        out.write(f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode())
        return out.getvalue()


def _wrap(paragraph: str, width: int = 80) -> list[str]:
    lines, current = [], ""
    for word in paragraph.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current]


def text_pdf(
    *,
    pages: int = 1,
    title: str | None = "Reconstruction grants audit 2026",
    author: str | None = "Iryna Bondar",
    created: str | None = "D:20261118093000+02'00'",
    heading: str = "Audit of reconstruction grants",
    paragraphs: Sequence[str] = REPORT_PARAGRAPHS,
    compress: bool = True,
) -> bytes:
    """A report of `pages` pages: a heading on the first, then paragraphs on every page."""
    pdf = _Builder()
    font = pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    tree = pdf.reserve()
    kids = []
    for number in range(pages):
        lines = [heading, ""] if number == 0 else []
        for paragraph in paragraphs:
            lines += [*_wrap(paragraph if number == 0 else f"Page {number + 1}. {paragraph}"), ""]
        content = pdf.add(_Builder.stream(_content(lines), compress=compress))
        kids.append(pdf.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] "
                            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"))
    pdf.set(tree, f"<< /Type /Pages /Count {pages} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>")
    root = pdf.add(f"<< /Type /Catalog /Pages {tree} 0 R >>")
    fields = []
    if title is not None:
        fields.append(f"/Title ({_escape(title)})")
    if author is not None:
        fields.append(f"/Author ({_escape(author)})")
    if created is not None:
        fields.append(f"/CreationDate ({created})")
    info = pdf.add(f"<< {' '.join(fields)} >>") if fields else None
    return pdf.build(root, info)


def scanned_pdf(pages: int = 2) -> bytes:
    """Pages that are pictures only: an image drawn on each, no text layer."""
    pdf = _Builder()
    pixels = bytes(range(256)) * 30  # 80x96 grey
    image = pdf.add(_Builder.stream(pixels, " /Type /XObject /Subtype /Image /Width 80 /Height 96 "
                                            "/ColorSpace /DeviceGray /BitsPerComponent 8", compress=True))
    tree = pdf.reserve()
    kids = []
    for _ in range(pages):
        content = pdf.add(_Builder.stream(b"q 500 0 0 700 40 60 cm /Im1 Do Q"))
        kids.append(pdf.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] "
                            f"/Resources << /XObject << /Im1 {image} 0 R >> >> /Contents {content} 0 R >>"))
    pdf.set(tree, f"<< /Type /Pages /Count {pages} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>")
    return pdf.build(pdf.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def encrypted_pdf(password: str = "s3cret") -> bytes:
    """A text report that needs a password to open (RC4, which pypdf reads without extra packages)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def many_pages_pdf(pages: int = 10_000) -> bytes:
    """A file of `pages` pages sharing one small content stream (a few hundred kilobytes)."""
    pdf = _Builder()
    font = pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    content = pdf.add(_Builder.stream(_content(["One more page of the endless file."])))
    tree = pdf.reserve()
    kids = [pdf.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>")
            for _ in range(pages)]
    pdf.set(tree, f"<< /Type /Pages /Count {pages} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>")
    return pdf.build(pdf.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def bomb_pdf(unpacked: int = 400_000_000) -> bytes:
    """One page whose content stream is a few hundred kilobytes of zlib that unpack to `unpacked` bytes."""
    packer = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    packed = b"".join(packer.compress(chunk) for _ in range(unpacked // len(chunk))) + packer.flush()
    pdf = _Builder()
    font = pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    content = pdf.add(f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed + b"\nendstream")
    tree = pdf.reserve()
    page = pdf.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] "
                   f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>")
    pdf.set(tree, f"<< /Type /Pages /Count 1 /Kids [{page} 0 R] >>")
    return pdf.build(pdf.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def nested_pdf(depth: int = 50_000) -> bytes:
    """A page whose resources hold arrays nested `depth` deep: a reader that recurses runs out of stack."""
    pdf = _Builder()
    nested = pdf.add("[" * depth + "]" * depth)
    tree = pdf.reserve()
    page = pdf.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 595 842] "
                   f"/Resources << /Deep {nested} 0 R >> /Contents {nested} 0 R >>")
    pdf.set(tree, f"<< /Type /Pages /Count 1 /Kids [{page} 0 R] >>")
    return pdf.build(pdf.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def broken_pdf() -> bytes:
    """The first three hundred bytes of a report, then nothing: a download cut short."""
    return text_pdf()[:300]
