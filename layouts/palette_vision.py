"""How the palette looks to colour-blind operators, and how far apart its colours are.

Colour-vision deficiency by Machado, Oliveira & Fernandes (2009, severity 1.0: protanopia, deuteranopia, tritanopia)
applied in linear RGB; distances in CIEDE2000 (Sharma, Wu & Dalal 2005) in CIELAB under D65. Pure functions: the
unit test (tests/unit/test_palette_vision.py) checks every pair of colours that must never be confused.
"""
from __future__ import annotations

from math import atan2, cos, degrees, exp, hypot, radians, sin, sqrt

Rgb = tuple[float, float, float]

MACHADO: dict[str, tuple[Rgb, Rgb, Rgb]] = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
VISIONS = ("normal", *MACHADO)


def hex_rgb(colour: str) -> Rgb:
    """`#d7191c` -> (0.843, 0.098, 0.110)."""
    c = colour.lstrip("#")
    return tuple(int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    c = min(1.0, max(0.0, c))
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def simulate(colour: str, vision: str) -> Rgb:
    """The sRGB colour a person with `vision` (normal, protanopia, deuteranopia, tritanopia) perceives."""
    rgb = hex_rgb(colour)
    if vision == "normal":
        return rgb
    lin = [_linear(c) for c in rgb]
    return tuple(_gamma(sum(m * c for m, c in zip(row, lin))) for row in MACHADO[vision])  # type: ignore[return-value]


def lab(rgb: Rgb) -> Rgb:
    """sRGB (0..1) -> CIELAB (D65)."""
    r, g, b = (_linear(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: Rgb, lab2: Rgb) -> float:
    """The CIEDE2000 colour difference of two CIELAB colours (1 is about the smallest difference one sees)."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (hypot(a1, b1) + hypot(a2, b2)) / 2
    g = 0.5 * (1 - sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = hypot(a1p, b1), hypot(a2p, b2)
    h1p = degrees(atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = degrees(atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0
    if c1p * c2p:
        dh = h2p - h1p
        if dh > 180:
            dh -= 360
        elif dh < -180:
            dh += 360
    dhh = 2 * sqrt(c1p * c2p) * sin(radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * cos(radians(h_bar - 30)) + 0.24 * cos(radians(2 * h_bar)) + 0.32 * cos(radians(3 * h_bar + 6))
         - 0.20 * cos(radians(4 * h_bar - 63)))
    d_theta = 30 * exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * sqrt(cp_bar ** 7 / (cp_bar ** 7 + 25 ** 7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    r_t = -sin(radians(2 * d_theta)) * r_c
    return sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dhh / s_h) ** 2 + r_t * (dc / s_c) * (dhh / s_h))


def distance(c1: str, c2: str, vision: str = "normal") -> float:
    """How different two palette colours look to a person with `vision` (CIEDE2000)."""
    return ciede2000(lab(simulate(c1, vision)), lab(simulate(c2, vision)))


def closest(colours: dict[str, str], others: dict[str, str], vision: str) -> tuple[float, str, str]:
    """The least distinct pair between two groups of colours (the distance and the two names)."""
    return min((distance(a, b, vision), na, nb) for na, a in colours.items() for nb, b in others.items())
