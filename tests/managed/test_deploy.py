"""`nql-flink deploy managed-flink --dry-run`: the kinesisanalyticsv2 requests validate against
botocore's model of the API (and broken ones do not), the CloudFormation template passes cfn-lint
(and a broken one does not), the role's permissions name exactly the job's resources, and a
SCRAM password is in no printed or written output. Nothing is sent to AWS."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("botocore", reason="botocore not installed (see requirements.lock)")

from nql_flink.deploy.managed import aws

ROOT = Path(__file__).resolve().parents[2]
MONITORS = ROOT / "tests" / "kafka" / "monitors"
CLUSTER = "arn:aws:kafka:eu-west-1:123456789012:cluster/alerts/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2"
TOPIC = "arn:aws:kafka:eu-west-1:123456789012:topic/alerts/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2/"
SUBNET, SG = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
BASE = ["deploy", "managed-flink", str(MONITORS), "--code", "s3://alert-code/nql/app.zip", "--msk-cluster-arn", CLUSTER,
        "--kafka", "b-1.alerts.kafka.eu-west-1.amazonaws.com:9098", "--dry-run"]


def run(*argv, out: Path) -> tuple[int, str, str]:
    from nql_flink.translator.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main([*BASE, "--out", str(out), *argv])
    return rc, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def iam(tmp_path_factory):
    out = tmp_path_factory.mktemp("iam")
    rc, stdout, err = run("--subnet", SUBNET, "--security-group", SG, "--parallelism", "4",
                          "--parallelism-per-kpu", "2", "--checkpoint-interval", "1min", out=out)
    assert rc == 0, err
    return {"request": json.loads(stdout), "template": json.loads((out / "cloudformation.json").read_text()),
            "written": json.loads((out / "create-application.json").read_text()), "out": out}


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    """cfn-lint (a test dependency, requirements.lock), the console script of this interpreter's environment."""
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True,
                          timeout=300)


def test_create_request_says_what_the_flags_say(iam):
    r = iam["request"]
    assert r == iam["written"]
    assert (r["ApplicationName"], r["RuntimeEnvironment"]) == ("nql-flink", "FLINK-2_3")
    assert r["ServiceExecutionRole"] == "arn:aws:iam::123456789012:role/nql-flink-execution"
    c = r["ApplicationConfiguration"]
    assert c["ApplicationCodeConfiguration"] == {"CodeContentType": "ZIPFILE", "CodeContent": {
        "S3ContentLocation": {"BucketARN": "arn:aws:s3:::alert-code", "FileKey": "nql/app.zip"}}}
    groups = {g["PropertyGroupId"]: g["PropertyMap"] for g in c["EnvironmentProperties"]["PropertyGroups"]}
    assert groups == {"kinesis.analytics.flink.run.options": {"python": "main.py", "jarfile": "lib/nql-flink-managed.jar",
                                                               "pyFiles": "lib/python"},
                      "nql.kafka": {"bootstrap.servers": "b-1.alerts.kafka.eu-west-1.amazonaws.com:9098"}}
    f = c["FlinkApplicationConfiguration"]
    assert f["CheckpointConfiguration"]["CheckpointInterval"] == 60_000
    assert f["ParallelismConfiguration"] == {"ConfigurationType": "CUSTOM", "Parallelism": 4, "ParallelismPerKPU": 2,
                                             "AutoScalingEnabled": False}
    assert c["VpcConfigurations"] == [{"SubnetIds": [SUBNET], "SecurityGroupIds": [SG]}]
    assert r["CloudWatchLoggingOptions"] == [{"LogStreamARN": "arn:aws:logs:eu-west-1:123456789012:log-group:"
                                              "/aws/kinesis-analytics/nql-flink:log-stream:kinesis-analytics-log-stream"}]


def test_by_default_checkpoints_come_every_2_s_and_the_minimum_pause_does_not_stretch_them(tmp_path):
    # committed readers see an alert at the checkpoint after its write (docs/benchmarks.md 4f);
    # a MinPauseBetweenCheckpoints above the interval would set the pace instead (5 s before)
    rc, _, err = run(out=tmp_path)
    assert rc == 0, err
    request = json.loads((tmp_path / "create-application.json").read_text())
    c = request["ApplicationConfiguration"]["FlinkApplicationConfiguration"]["CheckpointConfiguration"]
    assert (c["ConfigurationType"], c["CheckpointInterval"]) == ("CUSTOM", 2_000)
    assert c["MinPauseBetweenCheckpoints"] < c["CheckpointInterval"]


def test_requests_validate_against_botocores_model_and_broken_ones_do_not(iam):
    good = iam["request"]
    aws.validate("CreateApplication", good)
    broken = {"no role": lambda r: r.pop("ServiceExecutionRole"),
              "parallelism 0": lambda r: r["ApplicationConfiguration"]["FlinkApplicationConfiguration"][
                  "ParallelismConfiguration"].update(Parallelism=0),
              "unknown runtime": lambda r: r.update(RuntimeEnvironment="FLINK-9_9"),
              "property map not strings": lambda r: r["ApplicationConfiguration"]["EnvironmentProperties"][
                  "PropertyGroups"][1]["PropertyMap"].update(port=9098),
              "unknown member": lambda r: r.update(Parallelism=2)}
    said = {}
    for name, breaking in broken.items():
        r = copy.deepcopy(good)
        breaking(r)
        with pytest.raises(aws.DeploymentError) as e:
            aws.validate("CreateApplication", r)
        said[name] = str(e.value)
    assert "ServiceExecutionRole" in said["no role"]
    assert "Parallelism" in said["parallelism 0"]
    assert "FLINK-9_9" in said["unknown runtime"] and "FLINK-2_2" in said["unknown runtime"]
    assert "port" in said["property map not strings"]
    assert "Parallelism" in said["unknown member"]


def test_update_request_validates_and_restores_from_the_latest_snapshot(tmp_path):
    rc, stdout, err = run("--update", "--current-version", "7", "--runtime", "FLINK-2_2", out=tmp_path)
    assert rc == 0, err
    r = json.loads(stdout)
    aws.validate("UpdateApplication", r)
    assert r["CurrentApplicationVersionId"] == 7
    assert r["RunConfigurationUpdate"]["ApplicationRestoreConfiguration"] == {
        "ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"}
    assert r["RunConfigurationUpdate"]["FlinkRunConfiguration"] == {"AllowNonRestoredState": False}
    s3 = r["ApplicationConfigurationUpdate"]["ApplicationCodeConfigurationUpdate"]["CodeContentUpdate"]
    assert s3 == {"S3ContentLocationUpdate": {"BucketARNUpdate": "arn:aws:s3:::alert-code", "FileKeyUpdate": "nql/app.zip"}}
    bad = copy.deepcopy(r)
    bad["CurrentApplicationVersionId"] = 0  # the model's minimum is 1
    with pytest.raises(aws.DeploymentError):
        aws.validate("UpdateApplication", bad)


def test_template_passes_cfn_lint_and_a_broken_one_does_not(iam, tmp_path):
    good = cfn_lint(iam["out"] / "cloudformation.json")
    assert good.returncode == 0, good.stdout + good.stderr
    broken = copy.deepcopy(iam["template"])
    broken["Resources"]["Application"]["Properties"]["RuntimeEnvironment"] = "FLINK-9_9"
    del broken["Resources"]["LogStream"]["Properties"]["LogGroupName"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    bad = cfn_lint(tmp_path / "broken.json")
    assert bad.returncode != 0
    assert "FLINK-9_9" in bad.stdout and "LogGroupName" in bad.stdout


def test_role_may_touch_only_the_jobs_code_logs_cluster_topics_group_and_transactions(iam):
    t = iam["template"]["Resources"]
    statements = {s["Sid"]: s for s in t["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["ReadCode"]["Resource"] == "arn:aws:s3:::alert-code/nql/app.zip"
    assert statements["ConnectToCluster"]["Resource"] == CLUSTER
    assert statements["ReadTopics"]["Resource"] == [TOPIC + "nql.device.devices", TOPIC + "nql.monitor.config",
                                                    TOPIC + "nql.session.vdi_events"]
    assert statements["WriteTopics"]["Resource"] == [TOPIC + "nql.alert_state", TOPIC + "nql.alerts",
                                                     TOPIC + "nql.dead_letters"]
    assert statements["ConsumerGroup"]["Resource"] == CLUSTER.replace(":cluster/", ":group/") + "/nql-flink"
    assert statements["Transactions"]["Resource"] == CLUSTER.replace(":cluster/", ":transactional-id/") + "/nql-flink*"
    assert "kafka-cluster:WriteData" not in statements["ReadTopics"]["Action"]
    # only the VPC's network-interface actions, which take no resource, are on "*"
    assert [sid for sid, s in statements.items() if s["Resource"] == "*"] == ["VpcNetworkInterfaces"]
    app = t["Application"]["Properties"]
    assert app["ServiceExecutionRole"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert app["RunConfiguration"]["ApplicationRestoreConfiguration"]["ApplicationRestoreType"] == \
        "RESTORE_FROM_LATEST_SNAPSHOT"
    assert t["ApplicationLogging"]["Type"] == "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption"


def test_scram_password_is_in_no_output_and_a_noecho_parameter_in_the_template(tmp_path, monkeypatch):
    secret = "s3cr3t-Pa55word"
    monkeypatch.setenv("NQL_KAFKA_SASL_PASSWORD", secret)
    rc, stdout, err = run("--kafka-auth", "scram", "--sasl-username", "alerts", out=tmp_path)
    assert rc == 0, err
    written = "".join(p.read_text() for p in tmp_path.iterdir())
    assert secret not in stdout + err + written
    groups = {g["PropertyGroupId"]: g["PropertyMap"]
              for g in json.loads(stdout)["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]}
    assert groups["nql.kafka"]["sasl.password"] == aws.MASK and groups["nql.kafka"]["sasl.username"] == "alerts"
    template = json.loads((tmp_path / "cloudformation.json").read_text())
    assert template["Parameters"]["KafkaSaslPassword"]["NoEcho"] is True
    assert "kafka-cluster:Connect" not in written  # no MSK IAM permissions without IAM auth
    lint = cfn_lint(tmp_path / "cloudformation.json")
    assert lint.returncode == 0, lint.stdout
    # the request that would be sent carries it (and only that one)
    job = {"kafka_auth": "scram", "runtime": "FLINK-2_3", "monitors": [], "topics": {"read": [], "write": []},
           "group_id": "g", "transactional_id_prefix": "g"}
    d = aws.Deployment(job=job, code="s3://b/k.zip", bootstrap="b:1", cluster_arn=CLUSTER, sasl_username="alerts")
    sent = aws.create_request(d, password=secret)
    assert secret in json.dumps(sent) and secret not in json.dumps(aws.masked(sent))


def test_missing_or_bad_inputs_are_usage_errors_not_tracebacks(tmp_path):
    from nql_flink.translator.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["deploy", "managed-flink", str(MONITORS), "--dry-run", "--out", str(tmp_path)]) == 2
    assert "needs --code, --msk-cluster-arn, --kafka" in err.getvalue()
    rc, _, said = run("--code", "bucket/key", out=tmp_path)  # a later --code wins
    assert rc == 2 and "s3://BUCKET/KEY" in said
    rc, _, said = run("--subnet", SUBNET, out=tmp_path)
    assert rc == 2 and "both subnets and security groups" in said
    with pytest.raises(aws.DeploymentError, match="not an MSK cluster ARN"):
        aws.MskCluster("arn:aws:s3:::bucket")


def test_without_dry_run_and_without_credentials_it_says_so(tmp_path, monkeypatch):
    """The real call: boto3's credential chain finds nothing here (environment, files and the
    instance metadata service switched off), so the request is refused before anything is sent."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    base = [a for a in BASE if a != "--dry-run"]
    from nql_flink.translator.cli import main

    for extra, operation in (([], "CreateApplication"), (["--update"], "DescribeApplication")):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert main([*base, "--out", str(tmp_path), *extra]) == 1
        assert f"{operation}" in err.getvalue() and "Unable to locate credentials" in err.getvalue()
