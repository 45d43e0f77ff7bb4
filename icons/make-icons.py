#!/usr/bin/env python3
"""Draws the GHCR Desktop icon (a container box with an upward arrow) and writes every size Tauri and the desktop icon theme want.
Run once by hand (`python3 icons/make-icons.py`, needs Pillow); the PNG/ICO/ICNS files are committed."""
from pathlib import Path
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
S = 1024


def draw() -> Image.Image:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    # background: rounded square with a vertical indigo gradient
    bg = Image.new("RGBA", (S, S))
    top, bottom = (76, 70, 230), (36, 30, 120)
    px = bg.load()
    for y in range(S):
        t = y / (S - 1)
        c = tuple(int(top[i] + (bottom[i] - top[i]) * t) for i in range(3)) + (255,)
        for x in range(S):
            px[x, y] = c
    mask = Image.new("L", (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle((40, 40, S - 40, S - 40), radius=210, fill=255)
    img.paste(bg, (0, 0), mask)
    d = ImageDraw.Draw(img)
    # an isometric box: top, left and right faces
    cx, cy, w, h = S // 2, 600, 300, 170
    top_face = [(cx, cy - h), (cx + w, cy - h + h // 1.2 - 60), (cx, cy + 40), (cx - w, cy - h + h // 1.2 - 60)]
    top_face = [(x, y) for x, y in top_face]
    left_face = [top_face[3], top_face[2], (cx, cy + 330), (cx - w, cy + 180)]
    right_face = [top_face[2], top_face[1], (cx + w, cy + 180), (cx, cy + 330)]
    d.polygon(left_face, fill=(235, 238, 255, 255))
    d.polygon(right_face, fill=(190, 196, 245, 255))
    d.polygon(top_face, fill=(255, 255, 255, 255))
    # slats on the box faces, like a shipping container
    for i in range(1, 4):
        f = i / 4
        x0 = top_face[3][0] + (top_face[2][0] - top_face[3][0]) * f
        y0 = top_face[3][1] + (top_face[2][1] - top_face[3][1]) * f
        d.line([(x0, y0), (x0, y0 + 150 + 40 * f)], fill=(170, 176, 230, 255), width=14)
        x1 = top_face[2][0] + (top_face[1][0] - top_face[2][0]) * f
        y1 = top_face[2][1] + (top_face[1][1] - top_face[2][1]) * f
        d.line([(x1, y1), (x1, y1 + 190 - 40 * f)], fill=(150, 156, 215, 255), width=14)
    # upward arrow above the box
    ax, ay = cx, 120
    d.polygon([(ax, ay), (ax + 150, ay + 170), (ax + 60, ay + 170), (ax + 60, ay + 330),
               (ax - 60, ay + 330), (ax - 60, ay + 170), (ax - 150, ay + 170)], fill=(74, 222, 128, 255))
    return img


def main() -> None:
    big = draw()
    big.save(HERE / "icon.png")
    # The freedesktop icon theme's standard sizes: the Linux packages install each under
    # /usr/share/icons/hicolor/SIZExSIZE/apps/.
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        big.resize((size, size), Image.LANCZOS).save(HERE / f"{size}x{size}.png")
    big.save(HERE / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    big.save(HERE / "icon.icns")


if __name__ == "__main__":
    main()
