"""Loss curves as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import ConfigError
from ._scorers import INSTALL_HINT


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError(f"plotting needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def loss_png(curves: Mapping[str, Sequence[tuple[int, float]]], title: str) -> bytes:
    """A PNG of every series in ``curves`` (name -> [(step, value), ...]) against the step."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    try:
        for name, points in sorted(curves.items()):
            if points:
                steps, values = zip(*points, strict=True)
                marker = "o" if len(points) < 30 else None
                ax.plot(steps, values, label=name, marker=marker, markersize=3, linewidth=1.6)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)
