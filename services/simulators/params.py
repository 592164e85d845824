"""Checks of command parameters shared by the simulated supervisors."""
from __future__ import annotations

import math


def is_number(value: object) -> bool:
    """Is the value a finite int or float (true and false are not numbers here)?"""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
