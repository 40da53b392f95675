"""The demo company 株式会社さくらクラウド: a synthetic Japanese B2B SaaS seller, with problems.

``generate(out_dir)`` writes the thirteen canonical CSV files (the same format users import) and a
``truth.json`` naming every planted problem, so tests can check that eigyo finds what was planted
and nothing else. See ``docs/demo-company.md``.
"""

from eigyo.demo._generate import DemoResult, generate

__all__ = ["DemoResult", "generate"]
