"""Builds the optional compiled validation checker; everything else is in pyproject.toml.

Where no C compiler is at hand the build skips it (``optional=True``) and validation runs the
same checks in Python, only slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "ftbridge.validation._cscan",
            sources=["ftbridge/validation/_cscan.c"],
            optional=True,
        )
    ]
)
