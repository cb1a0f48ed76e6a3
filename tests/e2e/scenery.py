"""Landscapes painted with Pillow, so the shelf in screenshots looks like a real one."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Scene:
    """A palette and a few shapes; `paint` turns it into a JPEG."""

    title: str
    sky: tuple[RGB, RGB]  # top, horizon
    ridges: tuple[RGB, ...]  # far to near
    sun: RGB | None = None
    sun_at: tuple[float, float] = (0.7, 0.45)  # fraction of width, height
    water: RGB | None = None
    stars: bool = False
    roughness: float = 1.0
    size: tuple[int, int] = (1200, 800)  # width, height: most are landscapes

    @property
    def filename(self) -> str:
        return f"{self.title}.jpg"


SCENES = [
    Scene(
        "Dawn over the fjord",
        sky=((126, 160, 212), (250, 196, 170)),
        ridges=((120, 132, 170), (80, 94, 138), (46, 58, 96)),
        sun=(255, 236, 200),
        sun_at=(0.62, 0.52),
        water=(70, 92, 140),
    ),
    Scene(
        "Lavender hills at dusk",
        sky=((74, 60, 128), (246, 160, 120)),
        ridges=((150, 110, 160), (112, 80, 140), (78, 52, 110), (52, 34, 80)),
        sun=(255, 210, 150),
        sun_at=(0.3, 0.5),
        roughness=0.45,
        size=(800, 1200),  # a portrait: the shelf shows it whole
    ),
    Scene(
        "Dunes at noon",
        sky=((70, 140, 214), (196, 226, 246)),
        ridges=((232, 190, 130), (218, 160, 98), (196, 128, 72)),
        sun=(255, 252, 236),
        sun_at=(0.78, 0.18),
        roughness=0.3,
    ),
    Scene(
        "Harbour under the moon",
        sky=((10, 16, 40), (44, 66, 112)),
        ridges=((30, 44, 72), (18, 28, 50)),
        sun=(240, 240, 226),
        sun_at=(0.25, 0.28),
        water=(20, 34, 64),
        stars=True,
    ),
    Scene(
        "Spring meadow",
        sky=((120, 180, 232), (222, 240, 250)),
        ridges=((140, 176, 150), (110, 170, 96), (70, 140, 64)),
        sun=(255, 250, 220),
        sun_at=(0.15, 0.2),
        roughness=0.5,
    ),
]


def landscape(scene: Scene, size: tuple[int, int] | None = None, seed: int = 0) -> bytes:
    """A JPEG of the scene (at its own size unless told): gradient sky, sun or moon, layered
    ridges, optional water."""
    width, height = size = size or scene.size
    rng = random.Random(f"{scene.title}:{seed}")
    horizon = int(height * (0.62 if scene.water else 1.0))
    img = _gradient(size, *scene.sky)
    draw = ImageDraw.Draw(img)

    if scene.stars:
        for _ in range(width * height // 4000):
            x, y = rng.randrange(width), rng.randrange(int(height * 0.55))
            shade = rng.randrange(150, 256)
            draw.point((x, y), fill=(shade, shade, shade))
    if scene.sun:
        _glow(img, (int(width * scene.sun_at[0]), int(height * scene.sun_at[1])), scene.sun)
        draw = ImageDraw.Draw(img)

    layers = len(scene.ridges)
    for index, colour in enumerate(scene.ridges):
        base = horizon * (0.5 + 0.42 * (index + 1) / layers) if scene.water else None
        base = base or height * (0.45 + 0.5 * (index + 1) / (layers + 0.6))
        amplitude = height * 0.09 * scene.roughness * (1.3 - index / layers)
        draw.polygon(_ridge(rng, width, base, amplitude, horizon or height), fill=colour)

    if scene.water:
        reflection = img.crop((0, 0, width, horizon)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        reflection = reflection.resize((width, height - horizon)).filter(ImageFilter.BoxBlur(6))
        tint = Image.new("RGB", reflection.size, scene.water)
        img.paste(Image.blend(reflection, tint, 0.45), (0, horizon))
        draw = ImageDraw.Draw(img)
        for _ in range(60):  # ripples
            y = rng.randrange(horizon + 4, height)
            x = rng.randrange(width)
            length = rng.randrange(20, 120)
            draw.line((x, y, x + length, y), fill=_mix(scene.water, (255, 255, 255), 0.18))

    img = img.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        column.putpixel((0, y), _mix(top, bottom, y / (height - 1)))
    return column.resize(size)


def _glow(img: Image.Image, centre: tuple[int, int], colour: RGB) -> None:
    """A soft halo and a bright disc."""
    radius = img.width // 18
    halo = Image.new("L", img.size, 0)
    ImageDraw.Draw(halo).ellipse(
        (
            centre[0] - radius * 3,
            centre[1] - radius * 3,
            centre[0] + radius * 3,
            centre[1] + radius * 3,
        ),
        fill=90,
    )
    halo = halo.filter(ImageFilter.GaussianBlur(radius))
    img.paste(Image.new("RGB", img.size, colour), (0, 0), halo)
    ImageDraw.Draw(img).ellipse(
        (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
        fill=colour,
    )


def _ridge(rng: random.Random, width: int, base: float, amplitude: float, bottom: int):
    """A closed polygon along a ridgeline made of a few sine waves."""
    waves = [
        (rng.uniform(0.6, 3.2), rng.uniform(0, math.tau), rng.uniform(0.3, 1.0)) for _ in range(4)
    ]
    points = [(0, bottom)]
    for x in range(0, width + 8, 8):
        t = x / width * math.tau
        offset = sum(weight * math.sin(freq * t + phase) for freq, phase, weight in waves)
        points.append((x, base - amplitude * offset / 2))
    points.append((width, bottom))
    return points


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
