"""`nql-flink deploy managed-flink PATH... --code s3://BUCKET/KEY --msk-cluster-arn ARN --kafka BROKERS`:
the kinesisanalyticsv2 CreateApplication request (UpdateApplication with --update) for a package
made by `nql-flink package managed-flink` with the same PATHs and settings and uploaded to
--code, validated offline against botocore's model of the API, and a CloudFormation template
(application, least-privilege execution role, logging). Both are written to --out.

--dry-run stops there. Without it the request is sent with the caller's AWS credentials
(boto3's default chain; a SCRAM password from $NQL_KAFKA_SASL_PASSWORD). Printed and written
requests never hold the password (docs/managed-flink.md).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from nql_flink.translator.syntax.durations import option_duration

PASSWORD_ENV = "NQL_KAFKA_SASL_PASSWORD"


def add_arguments(parser) -> None:
    from nql_flink.translator.commands.package import add_package_arguments

    add_package_arguments(parser, job_name=False)
    g = parser.add_argument_group("managed-flink target (AWS)")
    g.add_argument("--code", metavar="s3://BUCKET/KEY", help="where the package zip was uploaded")
    g.add_argument("--msk-cluster-arn", metavar="ARN", help="the MSK cluster the job reads and writes (its region "
                   "and account are the application's)")
    g.add_argument("--subnet", action="append", default=[], metavar="ID", help="VPC subnet of the application "
                   "(repeatable; MSK is reached inside its VPC)")
    g.add_argument("--security-group", action="append", default=[], metavar="ID", help="VPC security group (repeatable)")
    g.add_argument("--role-arn", metavar="ARN", help="an existing service execution role (default: the role "
                   "the template creates, <job name>-execution)")
    g.add_argument("--parallelism-per-kpu", type=int, default=1, help="parallel tasks per KPU (default 1)")
    g.add_argument("--sasl-username", help="SCRAM user (--kafka-auth scram; the password: $" + PASSWORD_ENV + ")")
    g.add_argument("--update", action="store_true", help="UpdateApplication of an existing application (new code, "
                   "properties and configuration; restarts from its latest snapshot)")
    g.add_argument("--current-version", type=int, help="the application's version id for --update (default: "
                   "asked from AWS; 1 with --dry-run)")


def main(args) -> int:
    from nql_flink.deploy.managed import aws
    from nql_flink.deploy.managed.package import job_document
    from nql_flink.translator.commands.package import compile_package

    missing = [flag for flag, v in (("--code", args.code), ("--msk-cluster-arn", args.msk_cluster_arn),
                                    ("--kafka", args.kafka)) if not v]
    if missing:
        return _usage(f"managed-flink needs {', '.join(missing)}")
    interval = option_duration(args.checkpoint_interval)
    if not interval or interval <= 0:
        return _usage(f"--checkpoint-interval {args.checkpoint_interval!r} is not a duration")
    ready = compile_package(args)
    if isinstance(ready, int):
        return ready
    compiled, options = ready
    password = os.environ.get(PASSWORD_ENV) if args.kafka_auth == "scram" else None
    try:
        d = aws.Deployment(job=job_document(compiled, options, auth=args.kafka_auth, name=args.job_name,
                                            runtime=args.runtime),
                           code=args.code, bootstrap=args.kafka, cluster_arn=args.msk_cluster_arn, name=args.job_name,
                           role_arn=args.role_arn, parallelism=args.parallelism,
                           parallelism_per_kpu=args.parallelism_per_kpu, checkpoint_interval_ms=interval,
                           subnets=tuple(args.subnet), security_groups=tuple(args.security_group),
                           sasl_username=args.sasl_username)
        if args.kafka_auth == "scram" and not password and not args.dry_run:
            raise aws.DeploymentError(f"SCRAM needs the password in ${PASSWORD_ENV}")
        region = d.cluster.region
        operation = "UpdateApplication" if args.update else "CreateApplication"
        if args.update:
            version = args.current_version or (1 if args.dry_run else aws.current_version(d.name, region))
            request = aws.update_request(d, version, password=password)
        else:
            request = aws.create_request(d, password=password)
        aws.validate(operation, request)
        template = aws.cloudformation_template(d)
    except aws.DeploymentError as e:
        print(f"nql-flink deploy: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - DescribeApplication (--update): any AWS client error, with its message
        print(f"nql-flink deploy: DescribeApplication {args.job_name} failed: {e}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    request_file = out / ("update-application.json" if args.update else "create-application.json")
    request_file.write_text(json.dumps(aws.masked(request), indent=2) + "\n", encoding="utf-8")
    (out / "cloudformation.json").write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    print(f"{operation} request valid for botocore's {aws.SERVICE} model: {request_file}; CloudFormation template: "
          f"{out / 'cloudformation.json'}", file=sys.stderr)
    if args.dry_run:
        print(json.dumps(aws.masked(request), indent=2))
        return 0
    try:
        answer = aws.call(operation, request, region)
    except Exception as e:  # noqa: BLE001 - any AWS client error ends the command with its message
        print(f"nql-flink deploy: {operation} failed: {e}", file=sys.stderr)
        return 1
    detail = answer.get("ApplicationDetail", {})
    print(f"{operation}: {detail.get('ApplicationARN', d.name)} version {detail.get('ApplicationVersionId')}; "
          f"start it with: aws kinesisanalyticsv2 start-application --application-name {d.name} --region {region}",
          file=sys.stderr)
    return 0


def _usage(message: str) -> int:
    print(f"nql-flink deploy: {message}", file=sys.stderr)
    return 2
