"""The Crossforce pytest plugin, registered through the `pytest11` entry point.

Force integration teams get these fixtures by installing `crossforce[test]`.
"""

from __future__ import annotations
