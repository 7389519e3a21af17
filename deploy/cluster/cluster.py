"""A local standalone Flink cluster (1 JobManager + N TaskManagers on 127.0.0.1) for sql-client.

FLINK_HOME is assembled from the installed PyFlink wheel (its bin/, lib/, opt/, conf/) plus
what the wheel lacks, built from Maven Central by deploy.jars:
  * opt/flink-sql-gateway-<v>.jar   (sql-client's embedded gateway; missing from the wheel)
  * lib/nql-flink-connectors.jar    (Kafka SQL connector uber-jar, so jobs need no -j)
  * lib/flink-python-<v>.jar        (moved from opt/ so TaskManagers can run Python UDFs)
bin/ is copied (its scripts derive FLINK_HOME from their own resolved path); jars are symlinks.
conf/config.yaml is written at start with free loopback ports and the venv's Python as
python.executable / python.client.executable, so Python UDFs run in this project's venv.

Python API::

    from deploy.cluster import FlinkCluster
    c = FlinkCluster.start(state_dir)            # waits until the TaskManager registered
    c.rest_url                                   # 'http://127.0.0.1:PORT'
    r = c.sql_client("job.sql", pyfs=["udfs/my_udfs.py"])   # CompletedProcess
    c.jobs(); c.cancel_all(); c.stop()

CLI::

    python -m deploy.cluster start|stop|status [--state-dir build/flink-cluster]
    python -m deploy.cluster sql job.sql [--pyfs a.py,b.py]   # sql-client.sh -f against it
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import jars
from deploy.kafka.broker import _cmdline_has, _pid_alive, _reap, _tail, free_port
from deploy.recovery import recovery_options

DEFAULT_STATE_DIR = jars.REPO_ROOT / "build" / "flink-cluster"
STATE_FILE = "cluster.json"
CHECKPOINTS, SAVEPOINTS = "checkpoints", "savepoints"   # folders of the state dir, kept across starts


class ClusterError(RuntimeError):
    pass


def pyflink_dir() -> Path:
    import pyflink  # the installed wheel: bin/ lib/ opt/ conf/

    return Path(pyflink.__file__).resolve().parent


def venv_python() -> str:
    """The interpreter running this code (the project's venv): Python UDFs must use it."""
    return sys.executable


def make_flink_home(home: str | os.PathLike, *, connector_in_lib: bool = True, quiet: bool = False) -> Path:
    """(Re)create a FLINK_HOME at ``home`` from the PyFlink wheel plus Maven-built jars."""
    home = Path(home)
    src = pyflink_dir()
    gw = jars.gateway_jars(quiet=quiet)
    conn = jars.connector_jar(quiet=quiet) if connector_in_lib else None
    for sub in ("bin", "lib", "opt"):
        if (home / sub).exists():
            shutil.rmtree(home / sub)
    # bin/: real copies (config.sh resolves symlinks to find FLINK_HOME)
    shutil.copytree(src / "bin", home / "bin")
    for f in (home / "bin").iterdir():
        f.chmod(0o755)
    (home / "lib").mkdir()
    (home / "opt").mkdir()
    for j in (src / "lib").glob("*.jar"):
        (home / "lib" / j.name).symlink_to(j)
    python_jars = list((src / "opt").glob("flink-python-*.jar"))
    for j in (src / "opt").glob("*.jar"):
        (home / "opt" / j.name).symlink_to(j)
    for j in python_jars:
        (home / "lib" / j.name).symlink_to(j)
    for j in gw:
        (home / "opt" / j.name).symlink_to(j.resolve())
    if conn is not None:
        (home / "lib" / conn.name).symlink_to(conn.resolve())
    for d in ("conf", "log", "plugins"):
        (home / d).mkdir(exist_ok=True)
    for f in (src / "conf").iterdir():
        if f.name != "config.yaml":
            shutil.copy2(f, home / "conf" / f.name)
    return home


def _java_opts_all() -> str:
    """The --add-opens/--add-exports line of the wheel's own config.yaml (Flink needs them on 17)."""
    for line in (pyflink_dir() / "conf" / "config.yaml").read_text().splitlines():
        s = line.strip()
        if s.startswith("all:") and "--add-" in s:
            return s[len("all:"):].strip()
    return ""


# JVM start-up dominates a dev/test cluster on 2 cores: C1-only JIT and SerialGC roughly halve
# it. Not for throughput measurements (pass fast_jvm=False / --no-fast-jvm there).
FAST_JVM_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto"


def write_config(home: Path, state: Path, *, rpc_port: int, rest_port: int, slots: int,
                 jm_memory: str, tm_memory: str, python: str, fast_jvm: bool = True,
                 extra: dict[str, str] | None = None) -> Path:
    tmp = state / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    conf = {
        "env.java.opts.all": (_java_opts_all() + (" " + FAST_JVM_OPTS if fast_jvm else "")).strip(),
        "env.pid.dir": str(state),
        "env.log.dir": str(state / "log"),
        "io.tmp.dirs": str(tmp),
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": str(rpc_port),
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.memory.process.size": jm_memory,
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.host": "127.0.0.1",
        "taskmanager.numberOfTaskSlots": str(slots),
        "taskmanager.memory.process.size": tm_memory,
        "parallelism.default": "1",
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": str(rest_port),
        "blob.server.port": "0",
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": "0",
        # Python UDFs: the cluster's and the client's Python are this venv's.
        "python.executable": python,
        "python.client.executable": python,
        # A killed TaskManager is noticed within seconds (defaults: 10 s / 50 s); a JVM that
        # exits is also noticed by refused RPC connections (heartbeat.rpc-failure-threshold 2).
        "heartbeat.interval": "2000",
        "heartbeat.timeout": "10000",
        # Jobs restart by themselves and resume from durable checkpoints (deploy/recovery.py).
        **recovery_options(state / CHECKPOINTS, state / SAVEPOINTS),
    }
    conf.update(extra or {})
    # Flat "key: value" lines are valid Flink 2 config.yaml (it accepts flattened keys).
    text = "# written by deploy/cluster; regenerated at every start\n" + "".join(
        f"{k}: {json.dumps(v)}\n" for k, v in conf.items())
    (home / "conf" / "config.yaml").write_text(text)
    return home / "conf" / "config.yaml"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("_FLINK_HOME_DETERMINED", None)
    env.pop("FLINK_CONF_DIR", None)
    env.pop("FLINK_LIB_DIR", None)
    env.pop("FLINK_OPT_DIR", None)
    env["FLINK_HOME"] = str(home)
    env["FLINK_LOG_DIR"] = str(home / "log")
    # The venv's bin first, so any bare "python" Flink starts is the venv's.
    env["PATH"] = str(Path(venv_python()).parent) + os.pathsep + env.get("PATH", "")
    return env


@dataclass
class FlinkCluster:
    state_dir: Path
    home: Path
    rest_port: int
    rpc_port: int
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    # -- lifecycle -------------------------------------------------------
    @classmethod
    def start(cls, state_dir: str | os.PathLike | None = None, *, taskmanagers: int = 1, slots: int = 2,
              jm_memory: str = "1024m", tm_memory: str = "1728m", timeout: float = 120.0,
              python: str | None = None, extra_config: dict[str, str] | None = None,
              fast_jvm: bool = True, connector_in_lib: bool = True,
              env: dict[str, str] | None = None, quiet: bool = False) -> "FlinkCluster":
        """Build FLINK_HOME in ``state_dir/home``, start 1 JobManager + ``taskmanagers`` TMs on
        free loopback ports, wait until all TMs registered with the JobManager's REST API.
        ``connector_in_lib=False`` leaves the connector jar out of lib/: jobs then ship it
        themselves (sql_client(jars_=[...]) i.e. -j, or ADD JAR), as on Managed Flink.
        ``env``: extra environment of the JobManager/TaskManager JVMs, e.g. the variables that
        ``${env:...}`` Kafka config-provider references in generated SQL resolve to."""
        state = Path(state_dir) if state_dir else DEFAULT_STATE_DIR
        state.mkdir(parents=True, exist_ok=True)
        old = cls.load(state)
        if old is not None and old.alive():
            raise ClusterError(f"a cluster already runs from {state} (pids {old.pids}, {old.rest_url})")
        home = make_flink_home(state / "home", connector_in_lib=connector_in_lib, quiet=quiet)
        rpc, rest = free_port(), free_port()
        write_config(home, state, rpc_port=rpc, rest_port=rest, slots=slots, jm_memory=jm_memory,
                     tm_memory=tm_memory, python=python or venv_python(), fast_jvm=fast_jvm,
                     extra=extra_config)
        (state / "log").mkdir(exist_ok=True)
        c = cls(state.resolve(), home.resolve(), rest, rpc, {})
        extra_env = env
        env = _env(home)
        env.update(extra_env or {})
        env["FLINK_LOG_DIR"] = str(state / "log")

        def launch(name: str, script: str) -> None:
            with open(state / "log" / f"{name}.out", "wb") as out:
                p = subprocess.Popen([str(home / "bin" / script), "start-foreground"], env=env,
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, cwd=state)
            c.pids[name] = p.pid  # flink-console.sh exec's the JVM: this pid is the JVM's
            c._save()

        launch("jobmanager", "jobmanager.sh")
        for i in range(taskmanagers):
            launch(f"taskmanager-{i}", "taskmanager.sh")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, pid in c.pids.items() if not _pid_alive(pid)]
            if dead:
                c.stop()
                logs = "".join(_tail(state / "log" / f"{n}.out") for n in dead)
                raise ClusterError(f"{dead} exited during start; logs in {state / 'log'}:\n{logs}")
            try:
                ov = c.rest("/overview")
                if ov.get("taskmanagers", 0) >= taskmanagers:
                    return c
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        c.stop()
        raise ClusterError(f"cluster not ready within {timeout}s; logs in {state / 'log'}")

    def alive(self) -> bool:
        return any(_pid_alive(p) and _cmdline_has(p, "org.apache.flink") for p in self.pids.values())

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the TaskManagers then the JobManager (our own pids), SIGKILL after ``timeout``."""
        order = sorted(self.pids, key=lambda n: n == "jobmanager")
        for name in order:
            pid = self.pids[name]
            if _pid_alive(pid) and _cmdline_has(pid, "org.apache.flink"):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for name in order:
            pid = self.pids[name]
            while _pid_alive(pid) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if _pid_alive(pid) and _cmdline_has(pid, "org.apache.flink"):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)

    # -- REST ------------------------------------------------------------
    def rest(self, path: str, method: str = "GET", timeout: float = 5.0):
        req = urllib.request.Request(self.rest_url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if body else {}

    def jobs(self) -> list[dict]:
        """[{'jid', 'name', 'state', ...}] from /jobs/overview."""
        return self.rest("/jobs/overview").get("jobs", [])

    def wait_job(self, predicate=lambda j: True, states=("RUNNING",), timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for j in self.jobs():
                if j["state"] in states and predicate(j):
                    return j
            time.sleep(0.5)
        raise ClusterError(f"no job in {states} within {timeout}s: {self.jobs()}")

    def cancel(self, jid: str) -> None:
        self.rest(f"/jobs/{jid}?mode=cancel", method="PATCH")

    def cancel_all(self) -> None:
        for j in self.jobs():
            if j["state"] in ("RUNNING", "CREATED", "RESTARTING", "INITIALIZING"):
                self.cancel(j["jid"])

    # -- sql-client --------------------------------------------------------
    def sql_client(self, sql_file: str | os.PathLike, *, init_file: str | os.PathLike | None = None,
                   pyfs: list[str | os.PathLike] = (), jars_: list[str | os.PathLike] = (),
                   defines: dict[str, str] | None = None, env: dict[str, str] | None = None,
                   timeout: float = 300.0, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``sql-client.sh -f sql_file`` (embedded gateway) against this cluster.

        pyfs: Python files/dirs for Python UDFs (-pyfs); the venv's Python runs both the
        client-side function validation and the TaskManager workers. ``env`` adds variables
        (e.g. secrets the SQL reads with ${VAR}-free options set through -D ... never in files).
        """
        cmd = [str(self.home / "bin" / "sql-client.sh"), "embedded"]
        if init_file:
            cmd += ["-i", str(init_file)]
        cmd += ["-f", str(sql_file)]
        for j in jars_:
            cmd += ["-j", str(j)]
        if pyfs:
            cmd += ["-pyfs", ",".join(str(Path(p).resolve()) for p in pyfs)]
            cmd += ["-pyexec", venv_python(), "-pyclientexec", venv_python()]
        for k, v in (defines or {}).items():
            cmd += [f"-D{k}={v}"]
        e = _env(self.home)
        e.update(env or {})
        r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, cwd=self.state_dir)
        if check and (r.returncode != 0 or "[ERROR]" in r.stdout):
            raise ClusterError(f"sql-client failed (exit {r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
        return r

    # -- persistence -----------------------------------------------------
    def _save(self) -> None:
        d = asdict(self)
        d["state_dir"], d["home"] = str(self.state_dir), str(self.home)
        (self.state_dir / STATE_FILE).write_text(json.dumps(d, indent=2) + "\n")

    @classmethod
    def load(cls, state_dir: str | os.PathLike | None = None) -> "FlinkCluster | None":
        f = Path(state_dir or DEFAULT_STATE_DIR) / STATE_FILE
        if not f.exists():
            return None
        d = json.loads(f.read_text())
        d["state_dir"], d["home"] = Path(d["state_dir"]), Path(d["home"])
        return cls(**d)

    def __enter__(self) -> "FlinkCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m deploy.cluster",
                                description="Local standalone Flink cluster for sql-client.")
    p.add_argument("command", choices=["start", "stop", "status", "sql", "home"])
    p.add_argument("file", nargs="?", help="SQL script for 'sql'")
    p.add_argument("--state-dir", default=os.environ.get("NQL_FLINK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    p.add_argument("--pyfs", default="", help="comma-separated Python UDF files for 'sql'")
    p.add_argument("--init", help="init SQL file (-i) for 'sql'")
    p.add_argument("--taskmanagers", type=int, default=1)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--no-fast-jvm", action="store_true", help="default JIT/GC (for throughput runs)")
    p.add_argument("--kafka", metavar="HOST:PORT",
                   help="start: NQL_KAFKA_BOOTSTRAP_SERVERS of the JVMs, which generated SQL references as "
                        "${env:NQL_KAFKA_BOOTSTRAP_SERVERS} (default: this shell's variable, else the local "
                        "broker of `python -m deploy.kafka start`)")
    a = p.parse_args(argv)
    state = Path(a.state_dir)
    c = FlinkCluster.load(state)
    if a.command == "start":
        if c is not None and c.alive():
            print(c.rest_url)
            print(f"already running (pids {c.pids})", file=sys.stderr)
            return 0
        t0 = time.monotonic()
        from deploy.kafka.client import ENV_BOOTSTRAP, resolve_bootstrap

        bootstrap = resolve_bootstrap(a.kafka)
        env = {ENV_BOOTSTRAP: bootstrap} if bootstrap else {}
        print(f"{ENV_BOOTSTRAP}={bootstrap}" if bootstrap else f"{ENV_BOOTSTRAP} unset: jobs that reference it "
              "cannot connect", file=sys.stderr)
        try:
            c = FlinkCluster.start(state, taskmanagers=a.taskmanagers, slots=a.slots,
                                  fast_jvm=not a.no_fast_jvm, env=env)
        except (ClusterError, jars.BuildError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(c.rest_url)
        print(f"started {c.pids} in {time.monotonic() - t0:.1f}s; FLINK_HOME={c.home}", file=sys.stderr)
        return 0
    if c is None:
        print("not running", file=sys.stderr)
        return 0 if a.command == "stop" else 3
    if a.command == "stop":
        c.stop()
        print(f"stopped {c.pids}", file=sys.stderr)
        return 0
    if a.command == "home":
        print(c.home)
        return 0
    if not c.alive():
        print("dead (stale pids); run stop to clean up", file=sys.stderr)
        return 3
    if a.command == "status":
        try:
            ov = c.rest("/overview")
        except (OSError, ValueError) as e:
            print(f"REST not answering: {e}", file=sys.stderr)
            return 1
        print(c.rest_url)
        print(json.dumps(ov), file=sys.stderr)
        return 0
    if not a.file:
        p.error("sql needs a file")
    pyfs = [x for x in a.pyfs.split(",") if x]
    r = c.sql_client(a.file, init_file=a.init, pyfs=pyfs, check=False)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r.returncode or (1 if "[ERROR]" in r.stdout else 0)
