"""`make load --faults`, small: a few hundred events through a private local stack that throttles the
functions' DynamoDB calls and fails Management API posts. Nothing may go missing from the table; the
faults must really have been injected, of both kinds. Duplicates are counted, not asserted: a post
that fails after its retries fails its stream record, and the stream's retry sends it again."""

from __future__ import annotations

import pytest
from inbox_dev import load
from inbox_dev.bench.latency import LatencyRun
from inbox_dev.faults.settings import DYNAMODB_THROTTLE, MANAGEMENT_API_500

pytestmark = pytest.mark.e2e

SMALL = LatencyRun(events=300, users=3, connections_per_user=2, rate_per_s=50.0, timeout_s=120.0, http_clients=1)


def test_under_faults_every_event_is_stored_and_the_faults_are_counted() -> None:
    # Given a private local stack injecting the faults of `make load --faults`
    # When 300 events go through it while three users hold two connections each and a reader browses
    result = load.run(SMALL, load.FAULTS)

    # Then every event produced is in its recipient's inbox
    assert result["produced"] == SMALL.events
    assert result["stored"] == SMALL.events
    assert result["lost_from_table"] == 0
    # And the stack injected faults of both kinds while it ran
    assert result["faults"][DYNAMODB_THROTTLE]["injected"] > 0
    assert result["faults"][MANAGEMENT_API_500]["injected"] > 0
    # And the report says so, with what each connection received
    report = load.report(result)
    assert "goal (0 lost from the table, faults of both kinds injected): met" in report
    assert "per connection:" in report
    assert len(result["per_connection"]) == SMALL.users * SMALL.connections_per_user
