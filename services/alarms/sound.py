"""The annunciation chimes, synthesised here (no third-party audio): `python -m services.alarms.sound assets/`.

Urgent: three rising two-tone pulses; high: two softer ones. 16-bit mono PCM WAV, 16 kHz, with
short fades so no pulse clicks. The same inputs always give the same bytes (a test checks the
files in assets/ are these).
"""
from __future__ import annotations

import argparse
import io
import math
import struct
import wave
from pathlib import Path

RATE = 16_000
FADE_S = 0.008
# name -> pulses of (frequency Hz, duration s, gap after s), and a peak level 0..1
CHIMES: dict[str, tuple[tuple[tuple[float, float, float], ...], float]] = {
    "alarm_urgent": (((880.0, 0.14, 0.04), (1175.0, 0.14, 0.10), (880.0, 0.14, 0.04), (1175.0, 0.14, 0.10),
                      (880.0, 0.14, 0.04), (1397.0, 0.22, 0.0)), 0.8),
    "alarm_high": (((659.0, 0.18, 0.06), (880.0, 0.26, 0.0)), 0.6),
}


def _pulse(freq: float, duration: float, level: float) -> list[int]:
    n = int(RATE * duration)
    fade = max(1, int(RATE * FADE_S))
    out = []
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade)
        # a touch of the octave makes the tone carry without being harsh
        v = math.sin(2 * math.pi * freq * i / RATE) + 0.25 * math.sin(4 * math.pi * freq * i / RATE)
        out.append(int(max(-1.0, min(1.0, level * env * v / 1.25)) * 32767))
    return out


def chime(name: str) -> bytes:
    """The WAV bytes of one chime."""
    pulses, level = CHIMES[name]
    samples: list[int] = []
    for freq, duration, gap in pulses:
        samples += _pulse(freq, duration, level)
        samples += [0] * int(RATE * gap)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write every chime into a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    for name in CHIMES:
        path = args.folder / f"{name}.wav"
        path.write_bytes(chime(name))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
