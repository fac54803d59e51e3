"""Whether a URL's host is a host at all: a DNS name (letters, digits and hyphens in dot-separated
labels, international names in their ASCII form) or an IP address. A space, a ``*`` or an
underscore in a webhook's or an app's address is a typing slip (or a wildcard Admit does not
offer), refused where the address is given rather than failing at every delivery or sign-in."""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def is_host(host: str | None) -> bool:
    if not host or len(host) > 253:
        return False
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    try:
        ascii_name = bare.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return False
    labels = ascii_name.removesuffix(".").split(".")
    return all(_LABEL.fullmatch(label) for label in labels)
