"""`nql-flink package managed-flink PATH... -o app.zip`: compile the monitors and write the zip
Amazon Managed Service for Apache Flink runs (deploy/managed/package.py has the layout).

Upload the zip to S3 and create the application with `nql-flink deploy managed-flink`
(docs/managed-flink.md). `python main.py` in the unzipped folder runs the same job locally,
with an application_properties.json next to it.
"""

from __future__ import annotations

import sys

from nql_flink.translator.commands.common import add_compile_arguments

TARGETS = ("managed-flink",)


def add_package_arguments(parser, job_name: bool = True) -> None:
    """What a package is made of: shared with `deploy managed-flink`, which builds the same."""
    from nql_flink.deploy.managed.package import AUTH_OPTIONS, DEFAULT_RUNTIME, RUNTIMES

    g = parser.add_argument_group("Managed Flink package")
    g.add_argument("--runtime", choices=sorted(RUNTIMES), default=DEFAULT_RUNTIME,
                   help="Managed Flink runtime (default %(default)s)")
    g.add_argument("--kafka-auth", choices=list(AUTH_OPTIONS), default="iam",
                   help="how the job authenticates to Kafka: iam (MSK IAM, the application's role), scram "
                        "(SASL/SCRAM-SHA-512, user and password from the runtime properties) or plaintext "
                        "(default %(default)s)")
    if job_name:
        g.add_argument("--job-name", default="nql-flink", help="Flink job name (default %(default)s)")


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="what to package for")
    add_compile_arguments(parser)
    add_package_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="ZIP", help="the package to write (e.g. app.zip)")


def compile_package(args):
    """(compiled, options) for a package, or an exit code (the reason printed)."""
    from nql_flink.deploy.managed.package import PackageError, kafka_options
    from nql_flink.translator.commands.common import compile_options, compile_or_report

    given = [flag for flag, value in (("--credentials", args.credentials), ("--bootstrap-servers", args.bootstrap_servers),
                                      ("--security-protocol", args.security_protocol),
                                      ("--sasl-mechanism", args.sasl_mechanism)) if value]
    if given:
        print(f"nql-flink {args.command}: {', '.join(given)}: a Managed Flink package takes the Kafka address and "
              "credentials from its runtime properties and its authentication from --kafka-auth", file=sys.stderr)
        return 2
    options = compile_options(args)
    if isinstance(options, int):
        return options
    try:
        options = kafka_options(options, args.kafka_auth)
    except (PackageError, ValueError) as e:
        print(f"nql-flink {args.command}: {e}", file=sys.stderr)
        return 2
    compiled = compile_or_report(args, options)
    return compiled if isinstance(compiled, int) else (compiled, options)


def main(args) -> int:
    from nql_flink.deploy.jars import BuildError
    from nql_flink.deploy.managed.package import PackageError, build

    ready = compile_package(args)
    if isinstance(ready, int):
        return ready
    compiled, options = ready
    try:
        package = build(compiled, options, args.output, auth=args.kafka_auth, name=args.job_name,
                        runtime=args.runtime)
    except (PackageError, BuildError) as e:
        print(f"nql-flink package: {e}", file=sys.stderr)
        return 1
    job = package.job
    print(f"wrote {package.path}: {len(job['monitors'])} monitor(s), runtime {job['runtime']} (Python "
          f"{job['python']}), Kafka auth {job['kafka_auth']}; run options "
          + ", ".join(f"{k}={v}" for k, v in package.run_options.items()), file=sys.stderr)
    print(package.path)
    return 0
