"""The cap on a user's connections: a new one beyond it closes the oldest, told why first."""

from __future__ import annotations

from inbox.sockets.admission import CLOSED_TOO_MANY_CONNECTIONS, Admission

from tests.fakes.sockets import InMemoryConnections, RecordingCloser

CAP = 3


def opened(connections: InMemoryConnections, user: str, *names: str) -> None:
    for name in names:
        connections.add(user, name)


def test_connections_up_to_the_cap_are_all_kept_and_none_is_closed() -> None:
    # Given a user with one connection fewer than the cap
    connections, closer = InMemoryConnections(), RecordingCloser()
    opened(connections, "alice", "tab-1", "tab-2")

    # When the user opens one more
    closed = Admission(connections, closer, max_per_user=CAP).admit("alice", "tab-3")

    # Then all three stay open
    assert closed == []
    assert closer.closed == []
    assert connections.ids("alice") == {"tab-1", "tab-2", "tab-3"}


def test_a_connection_beyond_the_cap_closes_the_oldest_with_the_reason() -> None:
    # Given a user at the cap, tab-1 the oldest
    connections, closer = InMemoryConnections(), RecordingCloser()
    opened(connections, "alice", "tab-1", "tab-2", "tab-3")
    connections.writes = 0

    # When the user opens a fourth
    closed = Admission(connections, closer, max_per_user=CAP).admit("alice", "tab-4")

    # Then tab-1 is told why and closed, forgotten, and the new one is kept: two writes
    assert closed == ["tab-1"]
    assert closer.closed == [("tab-1", {"type": "closed", "reason": "too_many_connections"})]
    assert connections.ids("alice") == {"tab-2", "tab-3", "tab-4"}
    assert connections.writes == 2


def test_other_users_connections_are_never_closed() -> None:
    # Given bob at the cap and alice at it too
    connections, closer = InMemoryConnections(), RecordingCloser()
    opened(connections, "bob", "bob-1", "bob-2", "bob-3")
    opened(connections, "alice", "alice-1", "alice-2", "alice-3")

    # When alice opens one more
    Admission(connections, closer, max_per_user=CAP).admit("alice", "alice-4")

    # Then only her oldest is closed
    assert [name for name, _ in closer.closed] == ["alice-1"]
    assert connections.ids("bob") == {"bob-1", "bob-2", "bob-3"}


def test_after_connects_that_raced_past_the_cap_the_next_one_closes_the_excess() -> None:
    # Given five connections of a user whose connects ran side by side past a cap of three
    connections, closer = InMemoryConnections(), RecordingCloser()
    opened(connections, "alice", "tab-1", "tab-2", "tab-3", "tab-4", "tab-5")
    connections.writes = 0

    # When the user opens a sixth
    closed = Admission(connections, closer, max_per_user=CAP).admit("alice", "tab-6")

    # Then the three oldest are told and closed; only the oldest is forgotten here (two writes), the
    # others by their own $disconnect
    assert closed == ["tab-1", "tab-2", "tab-3"]
    assert closer.closed == [(name, CLOSED_TOO_MANY_CONNECTIONS) for name in closed]
    assert connections.ids("alice") == {"tab-2", "tab-3", "tab-4", "tab-5", "tab-6"}
    assert connections.writes == 2


def test_a_connection_gone_already_is_forgotten_since_no_disconnect_will_come() -> None:
    # Given five connections past a cap of three, two of which ended without a $disconnect
    connections, closer = InMemoryConnections(), RecordingCloser(gone={"tab-2", "tab-3"})
    opened(connections, "alice", "tab-1", "tab-2", "tab-3", "tab-4", "tab-5")

    # When the user opens a sixth
    Admission(connections, closer, max_per_user=CAP).admit("alice", "tab-6")

    # Then the gone ones are forgotten with the oldest, and the user is back at the cap
    assert [name for name, _ in closer.closed] == ["tab-1"]
    assert connections.ids("alice") == {"tab-4", "tab-5", "tab-6"}


def test_a_cap_of_one_keeps_only_the_newest_connection() -> None:
    # Given a cap of one and an open connection
    connections, closer = InMemoryConnections(), RecordingCloser()
    opened(connections, "alice", "phone")

    # When the user connects from another device
    Admission(connections, closer, max_per_user=1).admit("alice", "laptop")

    # Then the newest is the one kept
    assert connections.ids("alice") == {"laptop"}
    assert [name for name, _ in closer.closed] == ["phone"]
