"""The input of an InventoryWindows test on the engine (udfs/jvm InventoryWindows): a table of
events and a table of inventory versions, each a JSON file, and the function."""

from __future__ import annotations

import json
from pathlib import Path


def events_and_versions(t, folder: Path, prefix: str, event_columns: str, events: list[dict],
                        versions: list[dict]) -> None:
    """`<prefix>_events` (tenant, ts, then `event_columns`; a watermark 1 s behind) holding
    `events`, `<prefix>_versions` (tenant, ts, device, pool; 1 ms behind) holding `versions`, in
    the order given, and InventoryWindows as the system function `<prefix>_windows`."""
    from nql_flink.translator.flink.codegen import INVENTORY_WINDOWS_FUNCTION_CLASS

    for name, rows, columns, behind in (("events", events, event_columns, "1"),
                                        ("versions", versions, "device STRING, pool STRING", "0.001")):
        (folder / f"{name}.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
        t.execute_sql(f"""CREATE TEMPORARY TABLE {prefix}_{name} (tenant STRING, ts TIMESTAMP(3), {columns},
            WATERMARK FOR ts AS ts - INTERVAL '{behind}' SECOND)
            WITH ('connector' = 'filesystem', 'path' = '{folder / f"{name}.json"}', 'format' = 'json')""")
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {prefix}_windows "
                  f"AS '{INVENTORY_WINDOWS_FUNCTION_CLASS}' LANGUAGE JAVA")
