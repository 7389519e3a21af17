"""(c) sql-client.sh -f submits a Kafka -> Python UDF -> Kafka job to the local standalone
cluster; the UDF runs in the project's venv."""
from __future__ import annotations

import json
import sys
import textwrap

import pytest

# The Python Kafka client is a test/CLI dependency (requirements.lock); without it these tests
# cannot run at all, so they are skipped with that reason instead of erroring.
pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

UDF = '''
from pyflink.table import DataTypes
from pyflink.table.udf import udf


@udf(result_type=DataTypes.STRING())
def where_am_i(tenant):
    import sys
    return f"{tenant}@{sys.executable}"
'''


def test_sql_client_kafka_job_with_python_udf(flink_cluster, kafka_bootstrap, topic_name, tmp_path):
    src, dst = topic_name("sqlc-in"), topic_name("sqlc-out")
    kc.create_topics(kafka_bootstrap, [src, dst])
    kc.produce(kafka_bootstrap, src, [{"tenant": "acme", "v": 1}, {"tenant": "globex", "v": 2}])
    # a package directory, like the project's udfs/ (shipped as a staged dir holding only it)
    pkg = tmp_path / "pyfiles" / "nqlprobe"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "udfs.py").write_text(UDF)
    # Both tables connect through the SASL listener; the SQL only references ${env:...}
    # variables the cluster's JVMs were started with (see conftest.flink_cluster).
    conn = kc.with_options(kc.flink_properties(provider="env", security_protocol="SASL_PLAINTEXT",
                                               sasl_mechanism="PLAIN"))
    job = tmp_path / "job.sql"
    job.write_text(textwrap.dedent(f"""
        SET 'table.dml-sync' = 'true';
        SET 'pipeline.name' = 'nql-sql-client-smoke';
        CREATE TEMPORARY SYSTEM FUNCTION where_am_i AS 'nqlprobe.udfs.where_am_i' LANGUAGE PYTHON;
        CREATE TABLE src (tenant STRING, v INT) WITH (
          'connector' = 'kafka', 'topic' = '{src}', {conn},
          'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
          'format' = 'json');
        CREATE TABLE dst (who STRING, v INT) WITH (
          'connector' = 'kafka', 'topic' = '{dst}', {conn}, 'format' = 'json',
          'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'nql-{dst}');
        INSERT INTO dst SELECT where_am_i(tenant), v * 10 FROM src;
        """))
    from tests.kafka.conftest import SASL_PASSWORD

    text = job.read_text()
    assert SASL_PASSWORD not in text and kafka_bootstrap not in text and "${env:" in text
    r = flink_cluster.sql_client(job, pyfs=[tmp_path / "pyfiles"], timeout=240)
    assert "Complete execution of the SQL update statement" in r.stdout, r.stdout
    got = sorted(json.loads(v)["who"] for _, v in kc.tail(kafka_bootstrap, dst, timeout=30, idle_timeout=2))
    assert got == [f"acme@{sys.executable}", f"globex@{sys.executable}"]
    # it ran on the standalone cluster, not in a client-local mini-cluster
    names = {j["name"]: j["state"] for j in flink_cluster.jobs()}
    assert names.get("nql-sql-client-smoke") == "FINISHED", names
