"""System checks for deployment mistakes that would otherwise show up as lost files or 500s."""

from __future__ import annotations
