"""A request's session: one that was used is closed at the end of the request; a read
session that never was is handed, exactly as it was made, to the next read request."""

from sqlalchemy import select

from dreamlust.db import UNUSED_READ_SESSIONS_KEPT, Database
from dreamlust.models import Category


async def test_a_read_session_handed_back_unused_serves_the_next_read_request(
    database: Database,
) -> None:
    first = database.request_session(write=False)
    await database.end_request_session(first)

    assert database.request_session(write=False) is first
    assert database.request_session(write=False) is not first, "one request at a time"


async def test_a_session_that_sent_a_statement_is_closed_and_not_handed_out_again(
    database: Database,
) -> None:
    used = database.request_session(write=False)
    assert await used.scalar(select(1)) == 1
    await database.end_request_session(used)

    assert not used.in_transaction(), "closed: its connection is back in the pool"
    assert database.request_session(write=False) is not used


async def test_a_session_holding_an_object_or_lent_something_is_not_handed_out_again(
    database: Database,
) -> None:
    holding = database.request_session(write=False)
    holding.add(Category(slug="unsaved", name="Unsaved"))
    lent = database.request_session(write=False)
    lent.info["lent"] = object()
    for session in (holding, lent):
        await database.end_request_session(session)

    assert database.request_session(write=False) not in (holding, lent)


async def test_a_write_session_is_never_handed_to_a_read_request(database: Database) -> None:
    unused = database.request_session(write=True)
    await database.end_request_session(unused)

    assert database.request_session(write=False) is not unused
    assert database.request_session(write=True) is not unused


async def test_no_more_unused_sessions_are_kept_than_the_bound(database: Database) -> None:
    handed_back = [
        database.request_session(write=False) for _ in range(UNUSED_READ_SESSIONS_KEPT + 1)
    ]
    for session in handed_back:
        await database.end_request_session(session)

    handed_out = {id(database.request_session(write=False)) for _ in range(len(handed_back))}
    assert len(handed_out & {id(session) for session in handed_back}) == UNUSED_READ_SESSIONS_KEPT
