"""Fault injection for emulators: which request fails, how, and how often."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class FaultRule:
    """One injected fault; see :meth:`FaultInjector.inject`."""

    method: str
    path: re.Pattern[str]
    status: int | None = None
    retry_after: float | None = None
    drop: bool = False
    delay: float = 0.0
    times: int | None = None
    rate: float | None = None
    body: Any = None
    after_handling: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and self.path.fullmatch(path) is not None


class FaultInjector:
    """Per-route faults. Rules are tried in the order they were added; the first that fires wins."""

    def __init__(self, seed: int | None = 0) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
        times: int | None = None,
        rate: float | None = None,
        body: Any = None,
        after_handling: bool = False,
    ) -> FaultRule:
        """Add a fault for requests whose method and path match.

        ``status``: answer with it and the error envelope (``Retry-After`` when ``retry_after``);
        ``drop``: close the socket without a response; ``delay``: sleep first (alone, the request
        is then handled normally); ``times``: only the next N matching calls; ``rate``: each
        matching call with that probability (seeded); ``body``: a JSON value (or bytes) replacing
        the error envelope; ``after_handling``: run the handler first and then answer with the
        fault (a create whose response is lost).
        """
        if status is None and not drop and not delay:
            raise ValueError("a fault needs a status, drop=True or a delay")
        rule = FaultRule(
            method=method.upper(),
            path=re.compile(path_regex),
            status=status,
            retry_after=retry_after,
            drop=drop,
            delay=delay,
            times=times,
            rate=rate,
            body=body,
            after_handling=after_handling,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The fault that fires for this request, if any (consuming one of its ``times``)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None


def parse_fault(spec: str) -> dict[str, Any]:
    """Parse ``'METHOD PATH_REGEX=STATUS[,retry_after=S][,times=N][,rate=P][,drop][,delay=S]'``
    into keyword arguments for :meth:`FaultInjector.inject` (plus ``method`` and ``path_regex``).

    ``parse_fault("POST /v1/fine_tuning/jobs=429,retry_after=2,times=3")``. The status may be
    left out when ``drop`` or ``delay`` is given; ``after`` sets ``after_handling``. The path
    regex cannot contain ``=``.
    """
    try:
        method, rest = spec.strip().split(None, 1)
    except ValueError:
        raise ValueError(f"fault {spec!r}: expected 'METHOD PATH_REGEX=OPTIONS'") from None
    # The path regex ends at the first '=' (options contain '=' themselves: retry_after=2).
    path_regex, sep, options = rest.partition("=")
    if not sep:
        raise ValueError(f"fault {spec!r}: expected 'METHOD PATH_REGEX=OPTIONS'")
    kwargs: dict[str, Any] = {"method": method.upper(), "path_regex": path_regex.strip()}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, has_value, value = item.partition("=")
        try:
            if not has_value and key.isdigit():
                kwargs["status"] = int(key)
            elif key == "status":
                kwargs["status"] = int(value)
            elif key == "drop" and not has_value:
                kwargs["drop"] = True
            elif key == "after" and not has_value:
                kwargs["after_handling"] = True
            elif key in ("retry_after", "delay", "rate"):
                kwargs[key] = float(value)
            elif key == "times":
                kwargs["times"] = int(value)
            else:
                raise ValueError(item)
        except ValueError:
            raise ValueError(f"fault {spec!r}: cannot read option {item!r}") from None
    re.compile(kwargs["path_regex"])
    return kwargs
