"""The engine comparison of a record written by one of the project's Java functions with the
text Flink's JSON functions give for the same members (tests/flink/test_state_record.py,
test_alert_record.py): both expressions over the same rows, on the session's Flink."""
from __future__ import annotations


def texts(t, function: str, function_class: str, flink: str, ours: str, rows: list[str]) -> dict[int, tuple[str, str]]:
    """{i: (Flink's text, the function's)} of `flink` and `ours` (SQL over the rows' columns)
    for each row (a SELECT with its number as column `i`), the function registered first."""
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {function} AS '{function_class}' LANGUAGE JAVA")
    query = f"SELECT i, {flink}, {ours} FROM (\n" + "\nUNION ALL\n".join(rows) + ")"
    with t.execute_sql(query).collect() as result:
        return {r[0]: (r[1], r[2]) for r in result}


def assert_same_texts(texts: dict[int, tuple[str, str]], count: int) -> None:
    """Every row came back, each with the function's text equal to Flink's."""
    assert sorted(texts) == list(range(count))
    for i, (flink, ours) in sorted(texts.items()):
        assert ours == flink, f"row {i}"
