"""The chaos run's short version (`bench/chaos.py --short`) against the session's broker: the
three services killed and stopped at random moments, provider storms and a few hundred hostile
records mixed with valid journeys; nothing lost, every copy explained by a notifier kill, every
hostile record in its dead-letter topic, every consumer at the end of its topics. Then two
replicas of each service on the session's PostgreSQL, one of each killed, email through SES while
SES storms: nothing lost.

It runs as a process of its own, as the README's command does; its results go to a temporary
directory, not bench/results. (The session broker is not restarted: other tests share it.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orderpulse_devkit.services import REPO

pytestmark = pytest.mark.kafka

RUN_TIMEOUT = 480


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_short_chaos_run_loses_nothing_and_dead_letters_every_hostile_record(
    kafka: str, postgres_server: str, tmp_path: Path
) -> None:
    command = [sys.executable, str(REPO / "bench" / "chaos.py"), "--short"]
    command += ["--results", str(tmp_path), "--keep", str(tmp_path / "work")]
    done = subprocess.run(
        command,
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "ORDERPULSE_TEST_POSTGRES_URL": postgres_server,
        },
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    print(done.stdout[-3000:])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    (results,) = tmp_path.glob("chaos-*.json")
    run = json.loads(results.read_text())[-1]
    assert run["ok"]
    assert run["kills"]["SIGTERM"] == 3
    assert {k["service"] for k in run["kill_log"] if k["signal"] == "SIGKILL"} == {
        "status-tracker",
        "returns",
        "notifier",
    }
    assert run["records"]["hostile"] >= 300
    assert run["dead_lettering"]["hostile_missing"] == 0
    assert run["messages"]["lost"] == 0
    assert [storm["status"] for storm in run["storms"]] == [429, 421, 503, 451]
    replicas = run["replicas"]
    assert replicas["ok"]
    assert sorted(replicas["killed"]) == ["notifier", "returns", "status-tracker"]
    assert replicas["messages"]["lost"] == 0
    assert [(s["failing"], s["status"]) for s in replicas["storms"]] == [("ses", 429), ("ses", 503)]
    assert replicas["messages"]["received"]["ses"] >= replicas["messages"]["expected_per_provider"]
    assert replicas["messages"]["duplicated"] == replicas["messages"]["explained"]
