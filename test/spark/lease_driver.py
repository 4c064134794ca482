"""The Spark engine's writer lease (jobs/spark/lakehouse_lease.py) driven by test/spark/lease-*.test.ts,
one JSON command a line on stdin, one JSON answer a line on stdout:

  {"op": "distrust", "now": ms, "leases": [hex, ...]}        -> [[reason or null, holder described], ...]
  {"op": "acquire", "env": {...}, "runId": ..., "stage": ..., "waitMs": n, "timing": {...} or null}
      -> {"acquired": bool, "holder": record or null, "waitedOn": [described], "tookOver": record or null,
          "distrusted": reason or null, "record": the lease written, "location": where}
  {"op": "release"}                                          -> {"released": true, "lost": record or null}

The lease object is found as the Spark stages find it (lakehouse_runs.lease_object), from the
settings in "env"."""

import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "jobs", "spark"))

from lakehouse_config import load_config  # noqa: E402
from lakehouse_contract import contract  # noqa: E402
from lakehouse_lease import Timing, acquire, describe_holder, distrust, host_name, parse  # noqa: E402
from lakehouse_runs import lease_object  # noqa: E402


def plain(record):
    """A record as JSON carries it (NaN, which an unreadable lease holds, as null)."""
    if not isinstance(record, dict):
        return record
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def main() -> None:
    held = None
    timing = Timing.of(contract().lease)
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "distrust":
            answer = [
                [distrust(record, command["now"], timing), describe_holder(record)]
                for record in (parse(bytes.fromhex(h)) for h in command["leases"])
            ]
        elif op == "acquire":
            config = load_config([], command["env"])
            location = lease_object(config, contract().lease)
            waited_on = []

            def on_wait(current, heard=waited_on):
                heard.append(describe_holder(current))

            holder = {"runId": command["runId"], "stage": command["stage"], "host": host_name(), "pid": os.getpid()}
            t = command.get("timing")
            result = acquire(
                location,
                holder,
                command["waitMs"],
                on_wait,
                Timing(t["ttlMs"], t["renewMs"], t["pollMs"], t["settleMs"], t["skewMs"]) if t else timing,
            )
            held = result.lease
            answer = {
                "acquired": held is not None,
                "holder": plain(result.holder),
                "waitedOn": waited_on,
                "tookOver": plain(held.took_over) if held else None,
                "distrusted": held.distrusted if held else None,
                "record": held.record if held else None,
                "location": location.description,
                "pid": os.getpid(),
            }
        elif op == "release":
            lost = held.lost if held else None
            if held:
                held.release()
            held = None
            answer = {"released": True, "lost": plain(lost)}
        else:
            raise ValueError(f"unknown op {op}")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
