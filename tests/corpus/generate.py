"""Writes the bad-input corpus: what users drop besides clean photos. Nothing is downloaded; every
file is made here. Beside the files, `expected.json` says what each must give, for the CLI test
(crates/cli/tests/corpus.rs) and the browser test (tests/web/corpus.test.mjs):
  {"name": ..., "result": [width, height], "pixels": [[x, y, [r, g, b]], ...]}  a cutout of that size
  {"name": ..., "error": "<text the message contains>"}                         a clear message

    python tests/corpus/generate.py OUT_DIR      (tests/corpus/generate.sh does this for the tests)
"""
import io
import json
import random
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image

W, H = 64, 48
RED, GREEN, BLUE, YELLOW = (230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30)
# Sample points in each quadrant of the upright image, and the colour they must have.
QUADRANTS = [[12, 10, RED], [52, 10, GREEN], [12, 38, BLUE], [52, 38, YELLOW]]


def upright() -> Image.Image:
    """Four coloured quadrants, so any wrong rotation or flip shows."""
    image = Image.new("RGB", (W, H))
    for (x, y, colour) in [(0, 0, RED), (W // 2, 0, GREEN), (0, H // 2, BLUE), (W // 2, H // 2, YELLOW)]:
        image.paste(colour, (x, y, x + W // 2, y + H // 2))
    return image


# What a viewer does to the stored pixels for each EXIF orientation, undone here, so that every
# file shows the same upright picture once its orientation is applied.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # stored turned left; the viewer turns it right
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` RGB: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 << 20), 9)  # the start of the pixels: all zeros, compressed
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def noisy(size: int) -> Image.Image:
    """Pixels that do not compress, so cutting the file cuts the image."""
    return Image.frombytes("RGB", (size, size), random.Random(7).randbytes(size * size * 3))


def cut(data: bytes) -> bytes:
    """The first 60%: a download or copy that stopped early."""
    return data[: len(data) * 6 // 10]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    expected = []

    def good(name: str, data: bytes, pixels=QUADRANTS, size=(W, H)) -> None:
        files[name] = data
        expected.append({"name": name, "result": list(size), "pixels": pixels})

    def bad(name: str, data: bytes, error: str) -> None:
        files[name] = data
        expected.append({"name": name, "error": error})

    photo = upright()
    bad("empty.jpg", b"", "is empty")
    bad("notes.jpg", b"Shopping list: milk, eggs.\n", "not an image")
    bad("truncated.jpg", cut(jpeg(noisy(256))), "damaged or incomplete")
    bad("truncated.png", cut(png(noisy(256))), "damaged or incomplete")
    bad("bomb.png", png_declaring(60000, 60000), "too large (60000x60000")
    bad("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="red"/></svg>', "is an SVG drawing")
    bad("photo.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "is HEIC")

    good("cmyk.jpg", jpeg(photo.convert("CMYK")))
    grey = photo.convert("L")
    grey_pixels = [[x, y, [grey.getpixel((x, y))] * 3] for (x, y, _) in QUADRANTS]
    good("sixteen-bit.png", png(grey.point(lambda v: v * 257, "I").convert("I;16")), grey_pixels)
    good("grey-alpha.png", png(Image.merge("LA", (grey, Image.new("L", (W, H), 255)))), grey_pixels)
    frames = [photo.convert("P"), photo.transpose(Image.Transpose.ROTATE_180).convert("P")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    good("animated.gif", gif.getvalue())
    for orientation, transpose in STORE_FOR_ORIENTATION.items():
        stored = photo if transpose is None else photo.transpose(transpose)
        exif = Image.Exif()
        exif[0x0112] = orientation
        good(f"orientation-{orientation}.jpg", jpeg(stored, exif=exif.tobytes()))

    for name, data in files.items():
        (out / name).write_bytes(data)
    (out / "expected.json").write_text(json.dumps(expected, indent=1))
    print(f"corpus: {len(files)} files -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
