"""Numbers both sides of the protocol must agree on."""

from __future__ import annotations

#: Version of the config/result contract; a reader refuses configs from a newer version
#: rather than guessing at fields whose meaning may have changed.
PROTOCOL_VERSION: int = 1

#: Result files above this size are refused unread: a metric and a little metadata fit in
#: a few KiB, and the harness must not let a runaway runner make it load gigabytes.
MAX_RESULT_BYTES: int = 1 << 20
