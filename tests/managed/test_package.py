"""`nql-flink package managed-flink`: the zip's layout and run options, its one jar, the job it
carries, its driver's handling of runtime properties, and that no secret gets in. No Flink
runs here (tests/kafka/test_managed_flink.py starts the unzipped package against Kafka)."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nql_flink.deploy import plan
from nql_flink.deploy.managed import main as driver
from nql_flink.deploy.managed import package as pkg

ROOT = Path(__file__).resolve().parents[2]
MONITORS = ROOT / "tests" / "kafka" / "monitors"
SHADED_HANDLER = b"org/apache/flink/kafka/shaded/org/apache/kafka/common/security/auth/AuthenticateCallbackHandler"


def cli(*argv) -> int:
    from nql_flink.translator.cli import main

    return main(list(argv))


@pytest.fixture(scope="module")
def iam_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "app.zip"
    assert cli("package", "managed-flink", str(MONITORS), "-o", str(out)) == 0  # default auth: iam
    return zipfile.ZipFile(out)


def test_layout_is_the_one_the_run_options_name(iam_zip):
    names = set(iam_zip.namelist())
    assert {"main.py", "job.json", "job.sql", "monitor-config.jsonl", "lib/nql-flink-managed.jar",
            "lib/python/nql_flink/udfs/__init__.py", "lib/python/nql_flink/udfs/flink/alert_state.py"} <= names
    # at their installed module path (the generated SQL's 'nql_flink.udfs...'); nql_flink stays a
    # namespace package (no __init__.py), and nothing else of nql-flink is shipped
    assert not [n for n in names if n.startswith(("lib/python/nql_flink/udfs/nab/", "lib/python/nql_flink/udfs/jvm/"))
                or "__pycache__" in n or n == "lib/python/nql_flink/__init__.py"]
    assert {n.split("/")[3] for n in names if n.startswith("lib/python/nql_flink/")} == {"udfs"}
    options = pkg.run_options()
    assert options == {"python": "main.py", "jarfile": "lib/nql-flink-managed.jar", "pyFiles": "lib/python"}
    assert options["python"] in names and options["jarfile"] in names
    assert any(n.startswith(options["pyFiles"] + "/nql_flink/udfs/") for n in names)
    assert iam_zip.read("main.py") == Path(driver.__file__).read_bytes()
    # the driver runs the job from its plan with stable operator ids: deploy/plan.py beside it
    assert iam_zip.read("nql_plan.py") == Path(plan.__file__).read_bytes()


def test_one_jar_holds_the_connector_msk_iam_auth_shaded_and_the_java_functions(iam_zip, tmp_path):
    jar_path = tmp_path / "one.jar"
    jar_path.write_bytes(iam_zip.read("lib/nql-flink-managed.jar"))
    with zipfile.ZipFile(jar_path) as jar:
        names = set(jar.namelist())
        assert "dev/nqlflink/udfs/TenantWindows.class" in names  # the per-tenant windows PTF (codegen)
        assert "software/amazon/msk/auth/iam/IAMLoginModule.class" in names
        factories = jar.read("META-INF/services/org.apache.flink.table.factories.Factory").decode()
        assert "org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory" in factories
        handler = jar.read("software/amazon/msk/auth/iam/IAMClientCallbackHandler.class")
    # the shaded Kafka client loads the handler: it must implement the shaded interface
    assert SHADED_HANDLER in handler
    assert b"Lorg/apache/kafka/" not in handler and b"\x00\x3eorg/apache/kafka/common" not in handler


def test_job_carries_the_settings_statements_and_iam_keys_but_no_address(iam_zip):
    job = json.loads(iam_zip.read("job.json"))
    assert (job["runtime"], job["python"], job["kafka_auth"]) == ("FLINK-2_3", "3.12", "iam")
    assert job["monitors"] == ["acme/kafka_latency", "globex/kafka_latency", "initech/kafka_latency"]
    assert job["settings"]["table.local-time-zone"] == "UTC"
    assert job["settings"]["pipeline.name"] == "nql-flink"
    assert "execution.checkpointing.interval" not in job["settings"]  # the service's CheckpointConfiguration
    assert job["statements"][-1].startswith("EXECUTE STATEMENT SET")
    sql = "\n".join(job["statements"])
    assert "'properties.bootstrap.servers' = '${env:NQL_KAFKA_BOOTSTRAP_SERVERS}'" in sql
    assert "'properties.sasl.mechanism' = 'AWS_MSK_IAM'" in sql
    assert "'properties.security.protocol' = 'SASL_SSL'" in sql
    assert ("'properties.sasl.client.callback.handler.class' = "
            "'software.amazon.msk.auth.iam.IAMClientCallbackHandler'") in sql
    assert job["topics"] == {"read": ["nql.device.devices", "nql.monitor.config", "nql.session.vdi_events"],
                             "write": ["nql.alert_state", "nql.alerts", "nql.dead_letters"]}


def test_flink_2_2_is_selectable_and_an_unknown_runtime_is_refused(tmp_path, capsys):
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.pipeline import compile_paths

    options = pkg.kafka_options(CompileOptions(), "plaintext")
    compiled = compile_paths([str(MONITORS)], options=options)
    job = pkg.job_document(compiled, options, auth="plaintext", name="j", runtime="FLINK-2_2")
    assert job["runtime"] == "FLINK-2_2"
    assert "sasl" not in "\n".join(job["statements"])
    assert cli("package", "managed-flink", str(MONITORS), "-o", str(tmp_path / "a.zip"), "--runtime", "FLINK-1_20") == 2
    assert "invalid choice" in capsys.readouterr().err


def test_connection_flags_are_refused_the_properties_carry_them(tmp_path, capsys):
    assert cli("package", "managed-flink", str(MONITORS), "-o", str(tmp_path / "a.zip"),
               "--bootstrap-servers", "b-1:9092") == 2
    assert "runtime properties" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()


def test_no_secret_gets_into_a_scram_package(tmp_path, monkeypatch):
    secret = "s3cr3t-Pa55word"
    monkeypatch.setenv(driver.PASSWORD_ENV, secret)
    monkeypatch.setenv("NQL_KAFKA_SASL_JAAS_CONFIG", f'x password="{secret}";')
    out = tmp_path / "scram.zip"
    assert cli("package", "managed-flink", str(MONITORS), "-o", str(out), "--kafka-auth", "scram") == 0
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if secret.encode() in z.read(n)]
        sql = "\n".join(json.loads(z.read("job.json"))["statements"])
    assert "'properties.sasl.mechanism' = 'SCRAM-SHA-512'" in sql
    assert "'properties.sasl.jaas.config' = '${env:NQL_KAFKA_SASL_JAAS_CONFIG}'" in sql


def test_python_functions_need_nothing_beyond_the_runtime_and_a_new_dependency_is_named(tmp_path):
    assert pkg.third_party_imports() == {}
    x = tmp_path / "x.py"
    x.write_text("import numpy\nimport requests.adapters\nfrom scipy import stats\n"
                 "from .y import z\nimport json\nfrom nql_flink.udfs.alerting import state_machine\n"
                 "from nql_flink.translator import cli\n")  # the compiler is not shipped
    assert pkg.third_party_imports([(x, "nql_flink/udfs/flink/x.py")]) == {
        "requests": ["nql_flink/udfs/flink/x.py"], "scipy": ["nql_flink/udfs/flink/x.py"],
        "nql_flink.translator": ["nql_flink/udfs/flink/x.py"]}


# ----------------------------------------------------------------- the driver, main.py --
JOB = {"kafka_auth": "scram", "jarfile": pkg.JAR, "settings": {"table.local-time-zone": "UTC"},
       "references": {"bootstrap.servers": "${env:NQL_KAFKA_BOOTSTRAP_SERVERS}",
                      "sasl.jaas.config": "${env:NQL_KAFKA_SASL_JAAS_CONFIG}"}}


def groups(**kafka) -> dict:
    return {driver.KAFKA_GROUP: kafka}


def test_driver_fills_the_connection_from_the_properties(monkeypatch):
    monkeypatch.delenv(driver.PASSWORD_ENV, raising=False)
    values = driver.connection_values(JOB, groups(**{"bootstrap.servers": "b-1:9096", "sasl.username": "alerts",
                                                      "sasl.password": "it's"}))
    jaas = ("org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required "
            "username=\"alerts\" password=\"it's\";")
    assert values == {"${env:NQL_KAFKA_BOOTSTRAP_SERVERS}": "b-1:9096", "${env:NQL_KAFKA_SASL_JAAS_CONFIG}": jaas}
    stmt = "WITH ('properties.sasl.jaas.config' = '${env:NQL_KAFKA_SASL_JAAS_CONFIG}')"
    assert driver.resolve(stmt, values) == "WITH ('properties.sasl.jaas.config' = '" + jaas.replace("'", "''") + "')"
    iam = driver.connection_values({**JOB, "kafka_auth": "iam"}, groups(**{"bootstrap.servers": "b-1:9098"}))
    assert iam["${env:NQL_KAFKA_SASL_JAAS_CONFIG}"] == "software.amazon.msk.auth.iam.IAMLoginModule required;"
    plain = driver.connection_values({**JOB, "kafka_auth": "plaintext"}, groups(**{"bootstrap.servers": "k:9092"}))
    assert plain == {"${env:NQL_KAFKA_BOOTSTRAP_SERVERS}": "k:9092"}


def test_driver_takes_a_scram_password_from_the_environment_and_names_what_is_missing(monkeypatch):
    monkeypatch.setenv(driver.PASSWORD_ENV, "from-env")
    v = driver.connection_values(JOB, groups(**{"bootstrap.servers": "b:1", "sasl.username": "u"}))
    assert 'password="from-env"' in v["${env:NQL_KAFKA_SASL_JAAS_CONFIG}"]
    monkeypatch.delenv(driver.PASSWORD_ENV)
    with pytest.raises(driver.PropertyError) as e:
        driver.connection_values(JOB, groups(**{"bootstrap.servers": "b:1"}))
    assert e.value.code == "no-credentials" and "sasl.username and sasl.password" in str(e.value)
    with pytest.raises(driver.PropertyError) as e:
        driver.connection_values(JOB, {})
    assert e.value.code == "no-bootstrap"


def test_driver_sets_checkpointing_and_files_only_when_local():
    g = {driver.LOCAL_GROUP: {"execution.checkpointing.interval": "1 s"}}
    managed = driver.settings(JOB, g, managed=True)
    assert managed == {"table.local-time-zone": "UTC"}
    local = driver.settings(JOB, g, managed=False)
    assert local["execution.checkpointing.interval"] == "1 s"
    assert local["pipeline.jars"].endswith("/lib/nql-flink-managed.jar") and local["pipeline.jars"].startswith("file:")


def test_driver_reads_the_services_property_format(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps([{"PropertyGroupId": "nql.kafka", "PropertyMap": {"bootstrap.servers": "b:1"}},
                             {"PropertyGroupId": "empty", "PropertyMap": {}}]))
    assert driver.property_groups(f) == {"nql.kafka": {"bootstrap.servers": "b:1"}, "empty": {}}
    f.write_text('{"nql.kafka": {}}')
    with pytest.raises(driver.PropertyError) as e:
        driver.property_groups(f)
    assert e.value.code == "bad-properties"


def test_unzipped_driver_with_bad_properties_says_so_in_one_line(iam_zip, tmp_path):
    app = tmp_path / "app"
    iam_zip.extractall(app)
    props = tmp_path / "p.json"
    props.write_text(json.dumps([{"PropertyGroupId": "nql.kafka", "PropertyMap": {}}]))
    r = subprocess.run([sys.executable, "main.py"], cwd=app, capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", driver.LOCAL_PROPERTIES_ENV: str(props)})
    assert r.returncode == 2
    assert r.stderr.strip() == ("nql-flink main.py: [no-bootstrap] property group 'nql.kafka' has no "
                                "'bootstrap.servers'")


# A Kafka client as the connector makes one, configured for MSK IAM: creating it instantiates the
# JAAS login module and the callback handler through the shaded client (no broker needed).
IAM_CLIENT = """
import java.util.Properties;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.serialization.ByteArraySerializer;

public class IamClient {
    public static void main(String[] args) {
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:1");
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "AWS_MSK_IAM");
        p.put("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;");
        p.put("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        try (KafkaProducer<byte[], byte[]> producer =
                 new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            System.out.println("client created");
        }
    }
}
"""


def test_the_shaded_kafka_client_takes_the_msk_iam_settings_with_the_packaged_jar(iam_zip, tmp_path):
    from nql_flink.deploy.jars import _pyflink_lib, connector_jar, jdk_tool

    (tmp_path / "IamClient.java").write_text(IAM_CLIENT)
    jar = tmp_path / "one.jar"
    jar.write_bytes(iam_zip.read("lib/nql-flink-managed.jar"))

    def client(with_jar: Path) -> subprocess.CompletedProcess:
        classpath = f"{with_jar}:{_pyflink_lib()}/*"  # the runtime's Flink and logging
        return subprocess.run([jdk_tool("java"), "-cp", classpath, str(tmp_path / "IamClient.java")],
                              capture_output=True, text=True, timeout=180)

    packaged = client(jar)
    assert packaged.returncode == 0 and "client created" in packaged.stdout, packaged.stderr[-2000:]
    without = client(connector_jar(quiet=True))  # the local connector jar has no MSK IAM auth
    assert without.returncode != 0 and "software.amazon.msk.auth.iam" in without.stderr


def test_merging_jars_joins_service_files_and_refuses_a_class_in_two(tmp_path):
    def jar(name: str, entries: dict[str, str]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            for n, body in entries.items():
                z.writestr(n, body)
        return path

    factory = "META-INF/services/org.apache.flink.table.factories.Factory"
    a = jar("a.jar", {"a/A.class": "A", factory: "a.AFactory\n", "META-INF/MANIFEST.MF": "a", "NOTICE": "a"})
    b = jar("b.jar", {"b/B.class": "B", factory: "b.BFactory", "NOTICE": "b"})
    with zipfile.ZipFile(tmp_path / "one.jar", "w") as out:
        pkg.merge_jars(out, [a, b])
    with zipfile.ZipFile(tmp_path / "one.jar") as one:
        assert sorted(one.namelist()) == sorted(["META-INF/MANIFEST.MF", "a/A.class", "b/B.class", factory, "NOTICE"])
        assert one.read(factory) == b"a.AFactory\nb.BFactory\n" and one.read("NOTICE") == b"a"
    clash = jar("c.jar", {"a/A.class": "other"})
    with zipfile.ZipFile(tmp_path / "two.jar", "w") as out, pytest.raises(pkg.PackageError, match="a/A.class"):
        pkg.merge_jars(out, [a, clash])


def test_driver_fills_the_history_credentials_from_the_properties_only_when_the_job_writes_it(monkeypatch):
    monkeypatch.delenv(driver.HISTORY_PASSWORD_ENV, raising=False)
    kafka = {"bootstrap.servers": "k:9092"}
    plain = {**JOB, "kafka_auth": "plaintext"}
    assert driver.connection_values(plain, groups(**kafka)) == {"${env:NQL_KAFKA_BOOTSTRAP_SERVERS}": "k:9092"}
    with_history = {**plain, "statements": ["CREATE TABLE `sink_alert_history` (...) WITH ('password' = "
                                            "'${env:NQL_HISTORY_PASSWORD}', 'username' = '${env:NQL_HISTORY_USER}')"]}
    props = {driver.KAFKA_GROUP: kafka, driver.HISTORY_GROUP: {"username": "writer", "password": "it's"}}
    values = driver.connection_values(with_history, props)
    assert values["${env:NQL_HISTORY_USER}"] == "writer" and values["${env:NQL_HISTORY_PASSWORD}"] == "it's"
    assert "'password' = 'it''s'" in driver.resolve(with_history["statements"][0], values)
    monkeypatch.setenv(driver.HISTORY_PASSWORD_ENV, "from-env")
    props[driver.HISTORY_GROUP] = {"username": "writer"}
    assert driver.connection_values(with_history, props)["${env:NQL_HISTORY_PASSWORD}"] == "from-env"
    monkeypatch.delenv(driver.HISTORY_PASSWORD_ENV)
    with pytest.raises(driver.PropertyError) as e:
        driver.connection_values(with_history, groups(**kafka))
    assert e.value.code == "no-history-credentials" and "username and password" in str(e.value)
