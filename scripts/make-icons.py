"""Draws bgone's app icons (run once; the PNGs are committed):
    source models/python-env.sh && python scripts/make-icons.py
A checkerboard (the transparency users get) with a solid subject cut out of it.
The maskable icon keeps the subject inside the 80% safe zone that launchers crop to."""
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent.parent / "assets" / "icons"
NAVY, BLUE, LIGHT, DARK = (15, 23, 42), (37, 99, 235), (226, 232, 240), (148, 163, 184)


def icon(size: int, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    image = Image.new("RGBA", (s, s), NAVY + (255,) if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    inset = int(s * 0.1) if maskable else 0
    box = (inset, inset, s - inset, s - inset)
    radius = int(s * 0.2)
    # The checkerboard, clipped to a rounded square.
    board = Image.new("RGBA", (s, s))
    cells = 8
    cell = (box[2] - box[0]) / cells
    board_draw = ImageDraw.Draw(board)
    for row in range(cells):
        for col in range(cells):
            x0, y0 = box[0] + col * cell, box[1] + row * cell
            board_draw.rectangle((x0, y0, x0 + cell, y0 + cell), fill=LIGHT if (row + col) % 2 == 0 else DARK)
    clip = Image.new("L", (s, s))
    ImageDraw.Draw(clip).rounded_rectangle(box, radius=radius, fill=255)
    image.paste(board, (0, 0), clip)
    # The subject: a head and shoulders, the shape people cut out most.
    w = box[2] - box[0]
    cx = box[0] + w / 2
    head = w * 0.17
    draw.ellipse((cx - head, box[1] + w * 0.22, cx + head, box[1] + w * 0.22 + 2 * head), fill=BLUE)
    draw.rounded_rectangle((cx - w * 0.3, box[1] + w * 0.6, cx + w * 0.3, box[3] + radius), radius=int(w * 0.2), fill=BLUE)
    image.paste((0, 0, 0, 0) if not maskable else NAVY + (255,), (0, 0, s, s), Image.eval(clip, lambda v: 255 - v))
    return image.resize((size, size), Image.LANCZOS)


for size in (192, 512):
    icon(size, maskable=False).save(HERE / f"icon-{size}.png", optimize=True)
icon(512, maskable=True).save(HERE / "icon-maskable-512.png", optimize=True)
icon(180, maskable=True).convert("RGB").save(HERE / "apple-touch-icon.png", optimize=True)
print("icons written to", HERE)
