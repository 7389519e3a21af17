"""Build the zip Amazon Managed Service for Apache Flink runs (`nql-flink package managed-flink`).

Layout (AWS's Python examples for Managed Flink; paths are relative to the zip's root):

    main.py                          the driver (deploy/managed/main.py)          run option `python`
    nql_plan.py                      stable operator ids for the job's plan (deploy/plan.py)
    job.json                         the compiled job as data: settings, statements, Kafka auth
    job.sql                          the same job as a sql-client script, for review
    monitor-config.jsonl             the monitor-config records to publish (keyed tenant/monitor)
    lib/nql-flink-managed.jar        connector + aws-msk-iam-auth + the project's Java functions  `jarfile`
    lib/python/nql_flink/udfs/...    the Python functions (deploy/pyfiles.py)      `pyFiles`

One jar: Managed Flink takes a single `jarfile`, so the Maven-built connector jar
(deploy/managed/pom.xml) and the javac-built Java functions (deploy/jars.py udfs_jar) are
merged here, entry by entry (their packages do not overlap; a clash is an error).

Python: Managed Flink installs nothing with pip. The Python functions import the standard
library, PyFlink and what PyFlink itself depends on (numpy, pandas), which the runtime has;
`third_party_imports` checks that, so a new dependency fails the packaging with its name
instead of failing on the service. The runtime's Python is 3.12 on Linux x86_64 (AWS documents
3.12 for its Flink 2.2 runtime; its 2.3 pages found name no other, so 3.12 is assumed there).

Kafka authentication is chosen here (it decides which keys the SQL has); the values
(servers, SCRAM user and password) are runtime properties read by main.py.
"""
from __future__ import annotations

import ast
import json
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nql_flink.deploy import pyfiles
from nql_flink.deploy import plan as stable_plan
from nql_flink.deploy.managed import main as driver

JAR = "lib/nql-flink-managed.jar"
PY_FILES = driver.PYTHON_DIR
RUN_OPTIONS = "kinesis.analytics.flink.run.options"
# Runtime -> the Python version of its PyFlink (AWS documentation, docs/managed-flink.md).
RUNTIMES = {"FLINK-2_3": "3.12", "FLINK-2_2": "3.12"}
DEFAULT_RUNTIME = "FLINK-2_3"
# Kafka authentication -> CompileOptions fields (which keys the generated WITH clauses hold).
AUTH_OPTIONS = {
    "plaintext": {},
    "scram": {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512"},
    "iam": {"security_protocol": "SASL_SSL", "sasl_mechanism": "AWS_MSK_IAM",
            "kafka_properties": (("sasl.client.callback.handler.class",
                                  "software.amazon.msk.auth.iam.IAMClientCallbackHandler"),)},
}
# What the runtime's PyFlink brings (its own modules and its dependencies).
RUNTIME_MODULES = frozenset({"pyflink", "numpy", "pandas", "pyarrow", "py4j", "cloudpickle", "dateutil", "pytz",
                             "tzdata"})
# Session options of a job on Kafka that main.py sets (Managed Flink allows them from code);
# checkpointing is the service's (CheckpointConfiguration), set by main.py on a local run only.
KAFKA_SETTINGS = ("pipeline.auto-watermark-interval",)


class PackageError(ValueError):
    """The package cannot be built as asked; the message says why."""


@dataclass(frozen=True)
class Package:
    path: Path
    job: dict            # job.json
    run_options: dict    # the kinesis.analytics.flink.run.options property map


def kafka_options(options, auth: str):
    """The CompileOptions of a package: references for the connection (main.py fills them
    from the runtime properties) and the keys of `auth`."""
    if auth not in AUTH_OPTIONS:
        raise PackageError(f"Kafka authentication {auth!r}: one of {', '.join(AUTH_OPTIONS)}")
    return options.replace(credentials="env", bootstrap_servers=None, **AUTH_OPTIONS[auth])


def job_document(compiled, options, *, auth: str, name: str, runtime: str) -> dict:
    """job.json: what main.py needs to run the job without the translator."""
    from nql_flink.deploy.embedded.runner import KAFKA_CONFIG
    from nql_flink.translator.flink.codegen import session_options, state_bounds
    from nql_flink.translator.flink.connectors import ENV_BOOTSTRAP, ENV_JAAS

    settings = session_options(options) | {k: KAFKA_CONFIG[k] for k in KAFKA_SETTINGS} | {"pipeline.name": name}
    return {"name": name, "runtime": runtime, "python": RUNTIMES[runtime], "kafka_auth": auth, "jarfile": JAR,
            "monitors": sorted(f"{m.tenant}/{m.id}" for m in compiled.result.monitors),
            "topics": topic_roles(compiled, options),
            "group_id": options.group_id, "transactional_id_prefix": options.txn_prefix,
            "references": {"bootstrap.servers": "${env:" + ENV_BOOTSTRAP + "}",
                           "sasl.jaas.config": "${env:" + ENV_JAAS + "}"},
            "settings": settings, "state_bounds": state_bounds(options), "statements": compiled.statements()}


def topic_roles(compiled, options) -> dict[str, list[str]]:
    """{'read': topics the job reads, 'write': topics it writes} (the IAM policy's)."""
    from nql_flink.deploy.submit import catalog_topics
    from nql_flink.translator.flink.connectors import topics

    t = topics(options, catalog_topics(compiled))
    return {"read": sorted(t["events"] + t["versioned"]), "write": sorted(t["sinks"])}


def run_options() -> dict[str, str]:
    return {"python": "main.py", "jarfile": JAR, "pyFiles": PY_FILES}


def third_party_imports(files: list[tuple[Path, str]] | None = None) -> dict[str, list[str]]:
    """{module: [files]} imported by the shipped Python functions (deploy/pyfiles.py) that are
    neither the standard library, nor what the runtime's PyFlink brings, nor shipped with them."""
    files = pyfiles.shipped() if files is None else files
    own = pyfiles.PACKAGE_PATH.replace("/", ".")
    out: dict[str, list[str]] = {}
    for f, name in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for module in names:
                if module == own or module.startswith(own + "."):
                    continue
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in RUNTIME_MODULES:
                    out.setdefault(module if top == "nql_flink" else top, []).append(name)
    return out


def merge_jars(target: zipfile.ZipFile, jars: list[Path]) -> None:
    """Copy every entry of `jars` into `target`: each class and resource once (one class in two
    jars is an error, another resource is taken from the first jar), the service files
    (META-INF/services/*, how Flink finds connectors and formats) of all jars concatenated,
    and one manifest."""
    target.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: nql-flink package\n")
    seen: dict[str, Path] = {}
    services: dict[str, bytes] = {}
    for jar in jars:
        with zipfile.ZipFile(jar) as z:
            for info in z.infolist():
                name = info.filename
                if info.is_dir() or name.upper() == "META-INF/MANIFEST.MF":
                    continue
                if name.startswith("META-INF/services/"):
                    services[name] = services.get(name, b"") + z.read(info).rstrip(b"\n") + b"\n"
                elif name not in seen:
                    seen[name] = jar
                    target.writestr(info, z.read(info))
                elif name.endswith(".class"):
                    raise PackageError(f"{name} is in both {seen[name].name} and {jar.name}")
    for name, body in services.items():
        target.writestr(name, body)


def build(compiled, options, output: str | Path, *, auth: str = "plaintext", name: str = "nql-flink",
          runtime: str = DEFAULT_RUNTIME, jars: list[Path] | None = None) -> Package:
    """Write the package zip for a job compiled with ``kafka_options(options, auth)``."""
    from nql_flink.deploy.jars import managed_connector_jar, udfs_jar
    from nql_flink.translator.flink.monitor_config import config_lines

    if runtime not in RUNTIMES:
        raise PackageError(f"runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    extra = third_party_imports()
    if extra:
        raise PackageError("the Python functions import modules Managed Flink does not have: "
                           + "; ".join(f"{m} ({', '.join(fs)})" for m, fs in sorted(extra.items())))
    job = job_document(compiled, options, auth=auth, name=name, runtime=runtime)
    jars = jars if jars is not None else [managed_connector_jar(quiet=True), udfs_jar(quiet=True)]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(driver.__file__, "main.py")
        z.write(stable_plan.__file__, driver.PLAN_MODULE + ".py")   # stable operator ids (deploy/plan.py)
        z.writestr(driver.JOB_FILE, json.dumps(job, indent=1, sort_keys=True) + "\n")
        z.writestr("job.sql", compiled.sql())
        z.writestr("monitor-config.jsonl", config_lines(compiled.job.config_records))
        for f, name in pyfiles.shipped():
            z.write(f, f"{PY_FILES}/{name}")
        with z.open(JAR, "w", force_zip64=True) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as jar:
            merge_jars(jar, [Path(j) for j in jars])
    shutil.move(tmp, output)
    return Package(output, job, run_options())
