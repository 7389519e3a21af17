"""What `nql-flink deploy managed-flink` sends to AWS: the kinesisanalyticsv2 CreateApplication /
UpdateApplication request and a CloudFormation template, both built from one `Deployment`.

    d = Deployment(job=package.job_document(...), code="s3://bucket/app.zip", bootstrap="b-1:9098,...",
                   cluster_arn="arn:aws:kafka:eu-west-1:123456789012:cluster/msk/uuid", ...)
    request = create_request(d)                 # or update_request(d, current_version)
    validate("CreateApplication", request)     # botocore's ParamValidator + the model's enums
    template = cloudformation_template(d)      # application, role, logging (cfn-lint in the tests)

Offline: nothing here talks to AWS except `call`, which sends a request with the user's
credentials (boto3's usual chain) and cannot run on a machine without AWS access.

Least privilege: the role may read the one S3 object of the code, write the application's log
stream, and (with MSK IAM auth) connect to the named cluster, read the topics the job reads,
write the topics it writes, use its consumer group and its transactional ids; with subnets,
the network interfaces Managed Flink creates in the VPC (those EC2 actions take no resource).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

SERVICE = "kinesisanalyticsv2"
PASSWORD_PARAMETER = "KafkaSaslPassword"
MASK = "********"
LOG_STREAM = "kinesis-analytics-log-stream"


class DeploymentError(ValueError):
    """An input that cannot make a valid deployment; the message says which."""


@dataclass(frozen=True)
class MskCluster:
    """An MSK cluster ARN, arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID, and the ARNs of its
    topics, groups and transactional ids that IAM policies name."""
    arn: str

    def __post_init__(self):
        parts = self.arn.split(":", 5)
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "kafka"] or not parts[5].startswith("cluster/") \
                or len(parts[5].split("/")) != 3:
            raise DeploymentError(f"{self.arn!r} is not an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)")

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def resource(self, kind: str, name: str) -> str:
        """arn:aws:kafka:REGION:ACCOUNT:KIND/CLUSTER/UUID/NAME (kind: topic, group, transactional-id)."""
        return self.arn.replace(":cluster/", f":{kind}/", 1) + "/" + name


def parse_s3(url: str) -> tuple[str, str]:
    bucket, sep, key = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not sep or not bucket or not key:
        raise DeploymentError(f"{url!r}: expected s3://BUCKET/KEY of the uploaded package")
    return bucket, key


@dataclass(frozen=True)
class Deployment:
    job: dict                      # the package's job.json (deploy/managed/package.py job_document)
    code: str                      # s3://bucket/key of the uploaded zip
    bootstrap: str                 # MSK bootstrap brokers (runtime property nql.kafka/bootstrap.servers)
    cluster_arn: str
    name: str = "nql-flink"
    role_arn: str | None = None    # None: the role the template creates (<name>-execution)
    parallelism: int = 1
    parallelism_per_kpu: int = 1
    checkpoint_interval_ms: int = 2_000    # deploy/submit.py DEFAULT_CHECKPOINT_INTERVAL
    min_pause_ms: int = 1_000              # below the interval, or it would be the interval
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    sasl_username: str | None = None   # SCRAM
    sasl_password: str | None = None   # SCRAM; only into the request sent, never printed or written
    log_level: str = "INFO"
    run_options: dict = field(default_factory=dict)

    def __post_init__(self):
        parse_s3(self.code)
        MskCluster(self.cluster_arn)
        if self.parallelism < 1 or self.parallelism_per_kpu < 1:
            raise DeploymentError("parallelism and parallelism per KPU are at least 1")
        if bool(self.subnets) != bool(self.security_groups):
            raise DeploymentError("a VPC needs both subnets and security groups (or neither)")
        if self.job["kafka_auth"] == "scram" and not self.sasl_username:
            raise DeploymentError("SCRAM needs the user name (--sasl-username)")

    @property
    def cluster(self) -> MskCluster:
        return MskCluster(self.cluster_arn)

    @property
    def bucket_key(self) -> tuple[str, str]:
        return parse_s3(self.code)

    @property
    def execution_role(self) -> str:
        return self.role_arn or f"arn:aws:iam::{self.cluster.account}:role/{self.name}-execution"

    @property
    def log_group(self) -> str:
        return f"/aws/kinesis-analytics/{self.name}"

    def log_stream_arn(self, region: str | None = None, account: str | None = None) -> str:
        return (f"arn:aws:logs:{region or self.cluster.region}:{account or self.cluster.account}:log-group:"
                f"{self.log_group}:log-stream:{LOG_STREAM}")


# ------------------------------------------------------------------------- the request --
def property_groups(d: Deployment, password=None) -> list[dict]:
    """The runtime properties main.py reads. ``password``: the value put for a SCRAM password
    (the real one only in a request that is sent; a CloudFormation reference in the template)."""
    from nql_flink.deploy.managed import main as driver
    from nql_flink.deploy.managed.package import RUN_OPTIONS, run_options

    kafka = {"bootstrap.servers": d.bootstrap}
    if d.job["kafka_auth"] == "scram":
        kafka |= {"sasl.username": d.sasl_username, "sasl.password": password if password is not None else MASK}
    return [{"PropertyGroupId": RUN_OPTIONS, "PropertyMap": d.run_options or run_options()},
            {"PropertyGroupId": driver.KAFKA_GROUP, "PropertyMap": kafka}]


def _flink_configuration(d: Deployment) -> dict:
    return {"CheckpointConfiguration": {"ConfigurationType": "CUSTOM", "CheckpointingEnabled": True,
                                        "CheckpointInterval": d.checkpoint_interval_ms,
                                        "MinPauseBetweenCheckpoints": d.min_pause_ms},
            "MonitoringConfiguration": {"ConfigurationType": "CUSTOM", "MetricsLevel": "APPLICATION",
                                        "LogLevel": d.log_level},
            # no auto-scaling: it changes the parallelism, the alerts' operators with it
            "ParallelismConfiguration": {"ConfigurationType": "CUSTOM", "Parallelism": d.parallelism,
                                         "ParallelismPerKPU": d.parallelism_per_kpu, "AutoScalingEnabled": False}}


def create_request(d: Deployment, *, password=None) -> dict:
    bucket, key = d.bucket_key
    config = {
        "ApplicationCodeConfiguration": {"CodeContentType": "ZIPFILE", "CodeContent": {
            "S3ContentLocation": {"BucketARN": f"arn:aws:s3:::{bucket}", "FileKey": key}}},
        "EnvironmentProperties": {"PropertyGroups": property_groups(d, password)},
        "FlinkApplicationConfiguration": _flink_configuration(d),
        # snapshots on stop / update: the job restarts from the last one with its open alerts
        "ApplicationSnapshotConfiguration": {"SnapshotsEnabled": True}}
    if d.subnets:
        config["VpcConfigurations"] = [{"SubnetIds": list(d.subnets), "SecurityGroupIds": list(d.security_groups)}]
    return {"ApplicationName": d.name, "ApplicationDescription": f"nql-flink: {len(d.job['monitors'])} monitor(s)",
            "RuntimeEnvironment": d.job["runtime"], "ServiceExecutionRole": d.execution_role,
            "ApplicationConfiguration": config,
            "CloudWatchLoggingOptions": [{"LogStreamARN": d.log_stream_arn()}]}


def _as_update(value):
    """A Create structure as its Update form: each key gets 'Update' appended (the API's rule
    for these structures)."""
    if isinstance(value, dict):
        return {k + "Update": _as_update(v) for k, v in value.items()}
    return value


def update_request(d: Deployment, current_version: int, *, password=None) -> dict:
    """New code, properties and Flink configuration for an existing application, restarted
    from its latest snapshot (state kept; AllowNonRestoredState false: a plan that cannot
    restore fails instead of silently dropping state)."""
    create = create_request(d, password=password)["ApplicationConfiguration"]
    code = create["ApplicationCodeConfiguration"]
    flink = create["FlinkApplicationConfiguration"]
    return {"ApplicationName": d.name, "CurrentApplicationVersionId": current_version,
            "ApplicationConfigurationUpdate": {
                "ApplicationCodeConfigurationUpdate": {
                    "CodeContentTypeUpdate": code["CodeContentType"],
                    "CodeContentUpdate": {"S3ContentLocationUpdate": _as_update(code["CodeContent"]["S3ContentLocation"])}},
                "EnvironmentPropertyUpdates": create["EnvironmentProperties"],
                "FlinkApplicationConfigurationUpdate": {k + "Update": _as_update(v) for k, v in flink.items()}},
            "RunConfigurationUpdate": {
                "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
                "FlinkRunConfiguration": {"AllowNonRestoredState": False}},
            "ServiceExecutionRoleUpdate": d.execution_role}


def validate(operation: str, request: dict) -> None:
    """Check `request` offline against botocore's model of the operation: ParamValidator
    (required members, types, lengths, ranges) and the model's enum values, which the
    validator leaves to the service. Raises DeploymentError listing every problem."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(SERVICE).operation_model(operation)
    report = ParamValidator().validate(request, model.input_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += _enum_errors(request, model.input_shape, operation)
    if problems:
        raise DeploymentError(f"{operation} request does not validate:\n" + "\n".join(problems))


def _enum_errors(value, shape, path: str) -> list[str]:
    if shape.type_name == "structure" and isinstance(value, dict):
        return [e for k, v in value.items() if k in shape.members
                for e in _enum_errors(v, shape.members[k], f"{path}.{k}")]
    if shape.type_name == "list" and isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _enum_errors(v, shape.member, f"{path}[{i}]")]
    if getattr(shape, "enum", None) and isinstance(value, str) and value not in shape.enum:
        return [f"Invalid value for parameter {path}, value: {value!r}, valid values: {', '.join(shape.enum)}"]
    return []


def masked(request: dict) -> dict:
    """The request with a SCRAM password replaced by MASK (for printing and files)."""
    out = copy.deepcopy(request)
    for group in _property_groups_of(out):
        if "sasl.password" in group["PropertyMap"]:
            group["PropertyMap"]["sasl.password"] = MASK
    return out


def _property_groups_of(request: dict) -> list[dict]:
    config = request.get("ApplicationConfiguration") or request.get("ApplicationConfigurationUpdate") or {}
    props = config.get("EnvironmentProperties") or config.get("EnvironmentPropertyUpdates") or {}
    return props.get("PropertyGroups", [])


def call(operation: str, request: dict, region: str) -> dict:
    """Send the request with the caller's AWS credentials (boto3's default chain)."""
    import boto3

    client = boto3.client(SERVICE, region_name=region)
    method = {"CreateApplication": client.create_application, "UpdateApplication": client.update_application}[operation]
    return method(**request)


def current_version(name: str, region: str) -> int:
    import boto3

    detail = boto3.client(SERVICE, region_name=region).describe_application(ApplicationName=name)
    return detail["ApplicationDetail"]["ApplicationVersionId"]


# ------------------------------------------------------------------- IAM and template --
def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def policy_statements(d: Deployment) -> list[dict]:
    """The execution role's permissions, each on the fewest resources that work."""
    bucket, key = d.bucket_key
    group = f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{d.log_group}"
    out = [{"Sid": "ReadCode", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{bucket}/{key}"},
           {"Sid": "DescribeLogGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
            "Resource": _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")},
           {"Sid": "DescribeLogStreams", "Effect": "Allow", "Action": ["logs:DescribeLogStreams"],
            "Resource": _sub(f"{group}:log-stream:*")},
           {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:PutLogEvents"],
            "Resource": _sub(f"{group}:log-stream:{LOG_STREAM}")}]
    if d.subnets:
        out.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Resource": "*", "Action": [
            "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface"]})
    if d.job["kafka_auth"] == "iam":
        c, topics = d.cluster, d.job["topics"]
        out += [{"Sid": "ConnectToCluster", "Effect": "Allow", "Resource": c.arn,
                 "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster",
                            "kafka-cluster:WriteDataIdempotently"]},
                {"Sid": "ReadTopics", "Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                 "Resource": [c.resource("topic", t) for t in topics["read"]]},
                {"Sid": "WriteTopics", "Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                 "Resource": [c.resource("topic", t) for t in topics["write"]]},
                {"Sid": "ConsumerGroup", "Effect": "Allow", "Action": ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                 "Resource": c.resource("group", d.job["group_id"])},
                {"Sid": "Transactions", "Effect": "Allow",
                 "Action": ["kafka-cluster:DescribeTransactionalId", "kafka-cluster:AlterTransactionalId"],
                 "Resource": c.resource("transactional-id", d.job["transactional_id_prefix"] + "*")}]
    return out


def cloudformation_template(d: Deployment) -> dict:
    """The application, its execution role, its log group/stream and logging option. A SCRAM
    password is a NoEcho parameter, never a value in the template."""
    scram = d.job["kafka_auth"] == "scram"
    request = create_request(d, password={"Ref": PASSWORD_PARAMETER} if scram else None)
    config = request["ApplicationConfiguration"]
    config["ApplicationSnapshotConfiguration"] = {"SnapshotsEnabled": True}
    application = {"Type": "AWS::KinesisAnalyticsV2::Application", "Properties": {
        "ApplicationName": d.name, "ApplicationDescription": request["ApplicationDescription"],
        "RuntimeEnvironment": request["RuntimeEnvironment"],
        "ServiceExecutionRole": d.role_arn or {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
        "ApplicationConfiguration": config,
        "RunConfiguration": {"ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
                             "FlinkRunConfiguration": {"AllowNonRestoredState": False}}}}
    resources = {
        "LogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {"LogGroupName": d.log_group, "RetentionInDays": 30}},
        "LogStream": {"Type": "AWS::Logs::LogStream", "Properties": {"LogGroupName": {"Ref": "LogGroup"},
                                                                     "LogStreamName": LOG_STREAM}},
        "Application": application,
        "ApplicationLogging": {"Type": "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption", "Properties": {
            "ApplicationName": {"Ref": "Application"},
            "CloudWatchLoggingOption": {"LogStreamARN": _sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${LogGroup}:log-stream:${LogStream}")}}}}
    if d.role_arn is None:
        resources["ExecutionRole"] = {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"{d.name}-execution",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "kinesisanalytics.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            "Policies": [{"PolicyName": "nql-flink", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": policy_statements(d)}}]}}
    template = {"AWSTemplateFormatVersion": "2010-09-09",
                "Description": f"nql-flink on Managed Service for Apache Flink: {d.name}",
                "Resources": resources,
                "Outputs": {"ApplicationName": {"Value": {"Ref": "Application"}}}}
    if scram:
        template["Parameters"] = {PASSWORD_PARAMETER: {"Type": "String", "NoEcho": True, "MinLength": 1,
                                                       "Description": "SASL/SCRAM password of the job's Kafka user"}}
    return template
