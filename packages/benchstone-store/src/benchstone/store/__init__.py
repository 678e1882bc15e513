"""benchstone.store: the append-only, hash-chained SQLite store of benchstone.

``Store`` is the read-write handle the harness uses; ``ReadOnlyStore`` is for reporting
tools that depend on this package alone. See docs/store.md for the schema, the chain
format and what the guarantees do and do not cover.
"""

from ._errors import StoreError
from ._models import (
    BaselineEvent,
    CorpusEvent,
    Evaluation,
    LockEvent,
    NewEvaluation,
    NewRun,
    ReferenceEvent,
    Registration,
    Run,
    VerifyReport,
)
from ._names import NAME_RULE, validate_name
from ._paths import StorePaths, home_dir, is_setting, seal_settings, setting, settings
from ._readonly import ReadOnlyStore
from ._record import Record, factory, field
from ._schema import SCHEMA_VERSION
from ._store import Store

__all__ = [
    "NAME_RULE",
    "SCHEMA_VERSION",
    "BaselineEvent",
    "CorpusEvent",
    "Evaluation",
    "LockEvent",
    "NewEvaluation",
    "NewRun",
    "ReadOnlyStore",
    "Record",
    "ReferenceEvent",
    "Registration",
    "Run",
    "Store",
    "StoreError",
    "StorePaths",
    "VerifyReport",
    "factory",
    "field",
    "home_dir",
    "is_setting",
    "seal_settings",
    "setting",
    "settings",
    "validate_name",
]
