"""A pooled connection the server closed is dropped at checkout, without a round trip.

SQLAlchemy's pool_pre_ping sends a query on every checkout: one round trip per request, a
tenth of a sign-up's cost (bench/README.md). When the database restarts, fails over or a
proxy cuts connections, the server's side closes, so the idle socket becomes readable (EOF or
an error message). Polling it with a zero timeout costs a system call; a readable idle
connection is thrown away and the pool opens another, so the next request still succeeds
(tests/test_faults.py). A silently dead network path is not detected by this, nor would a ping
detect it sooner than its timeout.
"""

from __future__ import annotations

import select

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError


def drop_closed_connections(engine: Engine) -> None:
    """Check each PostgreSQL connection as it leaves the pool (other databases are left alone)."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _refuse_if_closed)


def _refuse_if_closed(dbapi_connection, connection_record, connection_proxy) -> None:
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception as error:  # already closed: no descriptor to poll
        raise DisconnectionError(f"pooled connection unusable: {type(error).__name__}") from None
    if readable:  # an idle connection has nothing to read unless the server hung up
        raise DisconnectionError("pooled connection closed by the server")
