"""A local standalone Flink cluster (1 JobManager + N TaskManagers on 127.0.0.1) for sql-client.

FLINK_HOME is assembled from the installed PyFlink wheel (its bin/, lib/, opt/, conf/) plus
what the wheel lacks, built from Maven Central by deploy.jars:
  * opt/flink-sql-gateway-<v>.jar   (sql-client's embedded gateway; missing from the wheel)
  * lib/nql-flink-connectors.jar    (Kafka SQL connector uber-jar, so jobs need no -j)
  * lib/flink-python-<v>.jar        (moved from opt/ so TaskManagers can run Python UDFs)
  * lib/nql-flink-udfs.jar          (the project's Java functions, udfs/jvm: per-tenant windows)
  * plugins/metrics-prometheus/     (the wheel's Prometheus metrics reporter, linked from its plugins/)
bin/ is copied (its scripts derive FLINK_HOME from their own resolved path); jars are symlinks.
conf/config.yaml is written at start with free loopback ports and the venv's Python as
python.executable / python.client.executable, so Python UDFs run in this project's venv.

Every JVM serves Prometheus metrics on a free loopback port of its own, given to it at launch
and recorded in the state file (``metrics_ports``; ``c.metrics_urls()``): see docs/operating.md
for the figures of a job's health and deploy/prometheus/ for alerting rules.

Jobs restart by themselves (exponential delay) and checkpoint to RocksDB, incrementally, into
``state_dir/checkpoints/<job id>/chk-<n>``, retained on cancel (deploy/recovery.py); a killed
TaskManager is noticed within seconds (short heartbeats). The standalone cluster does not replace
a dead TaskManager: ``start_taskmanager()`` does, and ends the Python workers the dead one left.

Python API::

    from nql_flink.deploy.cluster import FlinkCluster
    c = FlinkCluster.start(state_dir)            # waits until the TaskManager registered
    c.rest_url                                   # 'http://127.0.0.1:PORT'
    r = c.sql_client("job.sql", pyfs=["udfs/my_udfs.py"])   # CompletedProcess
    c.jobs(); c.cancel_all(); c.stop()           # stop also ends the Python UDF workers
    c.kill_taskmanager("taskmanager-0")          # SIGKILL, as a crash
    c.start_taskmanager()                        # -> 'taskmanager-1', registered
    c.latest_checkpoint(jid)                     # 'file:/.../checkpoints/<jid>/chk-7' (REST)
    c.metrics_urls()                             # {'jobmanager': 'http://127.0.0.1:P/metrics', ...}

CLI::

    python -m nql_flink.deploy.cluster start|stop|status [--state-dir build/flink-cluster] [--taskmanagers N]
    python -m nql_flink.deploy.cluster metrics          # name<TAB>Prometheus endpoint of each JVM
    python -m nql_flink.deploy.cluster sql job.sql [--pyfs a.py,b.py]   # sql-client.sh -f against it
    python -m nql_flink.deploy.cluster taskmanagers | start-taskmanager | kill-taskmanager NAME
    python -m nql_flink.deploy.cluster checkpoints [--job-name NAME] | cancel JOB_ID
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
from dataclasses import dataclass, field
from pathlib import Path

from nql_flink.deploy import jars
from nql_flink.deploy.local_service import (C1_ONLY, StateFile, cmdline_has, end_processes, free_port, launch, pid_alive,
                                            reap, tail, wait_until)
from nql_flink.deploy.recovery import recovery_options

DEFAULT_STATE_DIR = jars.REPO_ROOT / "build" / "flink-cluster"
STATE_FILE = "cluster.json"
CHECKPOINTS, SAVEPOINTS = "checkpoints", "savepoints"   # folders of the state dir, kept across starts
# Every JVM of a cluster gets MARKER_ENV=<its state dir>; the processes they start inherit it
# (PyFlink's Python workers: pyflink-udf-runner.sh, python, tee), which is how stop() and
# start_taskmanager() find the workers a killed TaskManager left behind.
MARKER_ENV = "NQL_FLINK_CLUSTER"


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
    functions = jars.udfs_jar(quiet=quiet)
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
    (home / "lib" / functions.name).symlink_to(functions.resolve())
    for d in ("conf", "log"):
        (home / d).mkdir(exist_ok=True)
    if (home / "plugins").exists():
        shutil.rmtree(home / "plugins")
    (home / "plugins").mkdir()
    for plugin in PLUGINS:  # each plugin in its own folder: Flink loads it with its own class loader
        (home / "plugins" / plugin).symlink_to(src / "plugins" / plugin, target_is_directory=True)
    for f in (src / "conf").iterdir():
        if f.name != "config.yaml":
            shutil.copy2(f, home / "conf" / f.name)
    return home


# Plugins of the wheel's plugins/ the cluster loads (only these: each costs start-up time).
PLUGINS = ("metrics-prometheus",)

# The Prometheus reporter (pull: each JVM serves /metrics on its own port, METRICS_PORT_KEY,
# given at launch). Job status as gauges (<state>State = 1/0, e.g. runningState) besides the
# time in the current state, so a rule can say "not running" without knowing the job's past.
METRICS_PORT_KEY = "metrics.reporter.prom.port"
METRICS_CONFIG = {
    "metrics.reporters": "prom",
    "metrics.reporter.prom.factory.class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
    "metrics.job.status.enable": "STATE;CURRENT_TIME;TOTAL_TIME",  # a list: ";"
}


def _java_opts_all() -> str:
    """The --add-opens/--add-exports line of the wheel's own config.yaml (Flink needs them on 17)."""
    for line in (pyflink_dir() / "conf" / "config.yaml").read_text().splitlines():
        s = line.strip()
        if s.startswith("all:") and "--add-" in s:
            return s[len("all:"):].strip()
    return ""


# JVM start-up dominates a dev/test cluster on 2 cores: C1-only JIT and SerialGC roughly halve
# it. Not for throughput measurements (pass fast_jvm=False / --no-fast-jvm there).
FAST_JVM_OPTS = f"-XX:+UseSerialGC {C1_ONLY} -Xshare:auto"


def write_config(home: Path, state: Path, *, rpc_port: int, rest_port: int, slots: int,
                 jm_memory: str, tm_memory: str, python: str, fast_jvm: bool = True,
                 extra: dict[str, str] | None = None) -> Path:
    tmp = state / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    conf = {
        # java.io.tmpdir too (the RPC jar each JVM unpacks, 24 MB): a TaskManager killed by a
        # test or an operator leaves it in the cluster's folder, not in /tmp
        "env.java.opts.all": (_java_opts_all() + (" " + FAST_JVM_OPTS if fast_jvm else "")
                              + f" -Djava.io.tmpdir={tmp}").strip(),
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
        # slots taken evenly from every TaskManager: a job of parallelism 2 on 2 TaskManagers
        # runs a subtask on each (the default fills one TaskManager's slots first)
        "taskmanager.load-balance.mode": "SLOTS",
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
        # A killed TaskManager is noticed within seconds (defaults 10 s / 50 s): its heartbeat
        # RPCs are refused, and 2 refusals in a row (heartbeat.rpc-failure-threshold) mark it
        # gone, ~2 intervals (3 s measured). The timeout, for a hung one, stays well above the
        # pauses of JVMs on 2 busy cores: a false alarm restarts every job of that TaskManager.
        "heartbeat.interval": "2000",
        "heartbeat.timeout": "15000",
        # Jobs restart by themselves and resume from durable checkpoints (deploy/recovery.py).
        **recovery_options(state / CHECKPOINTS, state / SAVEPOINTS),
        **METRICS_CONFIG,
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


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _marked_processes(state_dir: Path) -> list[int]:
    """Live processes of this user whose environment has MARKER_ENV=<state_dir> (a /proc scan)."""
    needle = f"\0{MARKER_ENV}={state_dir}\0".encode()
    uid, me, found = os.getuid(), os.getpid(), []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if entry.stat().st_uid != uid or needle not in b"\0" + Path(entry.path, "environ").read_bytes() + b"\0":
                continue
        except OSError:
            continue
        st = _stat(int(entry.name))
        if st is not None and st[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def _ancestors(pid: int) -> set[int]:
    """The process and its parents, up to (not including) init."""
    out: set[int] = set()
    while pid > 1 and pid not in out:
        out.add(pid)
        st = _stat(pid)
        if st is None:
            break
        pid = st[1]
    return out


@dataclass
class FlinkCluster(StateFile):
    state_dir: Path
    home: Path
    rest_port: int
    rpc_port: int
    pids: dict[str, int] = field(default_factory=dict)   # live JVMs only: 'jobmanager', 'taskmanager-<i>'
    launched: int = 0                                     # TaskManagers ever started (next name's index)
    metrics_ports: dict[str, int] = field(default_factory=dict)  # JVM name -> its Prometheus port
    env_keys: list[str] = field(default_factory=list)     # names of the JVMs' extra variables
    # their values stay in memory (they may be secrets); a loaded cluster takes them from the
    # JobManager's environment when it starts a TaskManager
    env: dict[str, str] | None = field(default=None, repr=False, compare=False)

    STATE_FILE = STATE_FILE
    DEFAULT_STATE_DIR = DEFAULT_STATE_DIR
    PATH_FIELDS = ("state_dir", "home")
    MEMORY_ONLY = ("env",)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def checkpoint_dir(self) -> Path:
        """Default execution.checkpointing.dir of jobs: <dir>/<job id>/chk-<n>/_metadata."""
        return self.state_dir / CHECKPOINTS

    @property
    def savepoint_dir(self) -> Path:
        return self.state_dir / SAVEPOINTS

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
        ``${env:...}`` Kafka config-provider references in generated SQL resolve to.
        Checkpoints and savepoints of earlier runs in ``state_dir`` are kept."""
        state = (Path(state_dir) if state_dir else DEFAULT_STATE_DIR).resolve()
        state.mkdir(parents=True, exist_ok=True)
        old = cls.load(state)
        if old is not None and old.alive():
            raise ClusterError(f"a cluster already runs from {state} (pids {old.pids}, {old.rest_url})")
        end_processes(_marked_processes(state))  # Python workers a crashed cluster left behind
        home = make_flink_home(state / "home", connector_in_lib=connector_in_lib, quiet=quiet)
        rpc, rest = free_port(), free_port()
        write_config(home, state, rpc_port=rpc, rest_port=rest, slots=slots, jm_memory=jm_memory,
                     tm_memory=tm_memory, python=python or venv_python(), fast_jvm=fast_jvm,
                     extra=extra_config)
        (state / "log").mkdir(exist_ok=True)
        c = cls(state, home.resolve(), rest, rpc, env_keys=sorted(env or {}), env=dict(env or {}))
        c._launch("jobmanager", c._launch_env())
        for _ in range(taskmanagers):
            c._launch_taskmanager(c._launch_env())
        try:
            c._wait_registered(list(c.pids), timeout)
        except ClusterError:
            c.stop()
            raise
        return c

    def _launch_env(self) -> dict[str, str]:
        env = _env(self.home)
        env.update(self.env if self.env is not None else self._jobmanager_env())
        env["FLINK_LOG_DIR"] = str(self.state_dir / "log")
        env[MARKER_ENV] = str(self.state_dir)
        return env

    def _jobmanager_env(self) -> dict[str, str]:
        """The extra variables (``env_keys``) as the running JobManager has them."""
        pid = self.pids.get("jobmanager")
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except (OSError, TypeError):
            raise ClusterError(f"cannot read the JobManager's environment (pid {pid}); pass env=") from None
        env = dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)
        return {k: env[k] for k in self.env_keys if k in env}

    def _launch(self, name: str, env: dict[str, str], **dynamic: str) -> int:
        """Start JVM ``name`` with ``dynamic`` options (-D key=value) and a Prometheus port of its own."""
        script = "jobmanager.sh" if name == "jobmanager" else "taskmanager.sh"
        port = free_port()
        # "-D" then "key=value": jobmanager.sh takes a second argument other than -D for a host name
        args = [a for k, v in {METRICS_PORT_KEY: str(port), **dynamic}.items() for a in ("-D", f"{k}={v}")]
        p = launch([str(self.home / "bin" / script), "start-foreground", *args], self.state_dir / "log" / f"{name}.out",
                   cwd=self.state_dir, env=env)
        self.pids[name] = p.pid  # flink-console.sh exec's the JVM: this pid is the JVM's
        self.metrics_ports[name] = port
        self._save()
        return p.pid

    def _launch_taskmanager(self, env: dict[str, str]) -> str:
        name = f"taskmanager-{self.launched}"
        self.launched += 1
        # the TaskManager's id in the REST API is its name here (default: host:port-random)
        self._launch(name, env, **{"taskmanager.resource-id": name})
        return name

    def metrics_urls(self) -> dict[str, str]:
        """{JVM name: its Prometheus endpoint} of the live JVMs (the scrape targets)."""
        return {n: f"http://127.0.0.1:{p}/metrics" for n, p in sorted(self.metrics_ports.items()) if n in self.pids}

    def _wait_registered(self, names: list[str], timeout: float) -> None:
        """Until every TaskManager in ``names`` is registered (and the JobManager answers)."""
        tms = [n for n in names if n != "jobmanager"]

        def exited() -> None:
            dead = [n for n in names if not pid_alive(self.pids[n])]
            if dead:
                logs = "".join(tail(self.state_dir / "log" / f"{n}.out") for n in dead)
                raise ClusterError(f"{dead} exited during start; logs in {self.state_dir / 'log'}:\n{logs}")

        def registered() -> bool:
            try:
                return set(tms) <= {t["id"] for t in self.rest("/taskmanagers").get("taskmanagers", [])}
            except (OSError, ValueError):
                return False

        if wait_until(registered, timeout, 0.3, check=exited):
            return
        raise ClusterError(f"{tms} not registered within {timeout}s; logs in {self.state_dir / 'log'}")

    def start_taskmanager(self, *, timeout: float = 120.0, env: dict[str, str] | None = None) -> str:
        """One more TaskManager on the running cluster (what a supervisor does after a crash: the
        standalone cluster does not replace a dead TaskManager). Forgets dead TaskManagers and
        ends the Python workers they left, starts ``taskmanager-<n>`` with the JobManager's
        environment (or ``env``), waits until it registered; returns its name."""
        if not (self.pids.get("jobmanager") and pid_alive(self.pids["jobmanager"])):
            raise ClusterError(f"no JobManager running from {self.state_dir}")
        self._forget_dead()
        launch_env = self._launch_env()
        if env is not None:
            launch_env.update(env)
        end_processes(self.orphaned_python_workers())
        name = self._launch_taskmanager(launch_env)
        try:
            self._wait_registered([name], timeout)
        except ClusterError:
            self.kill_taskmanager(name)
            raise
        return name

    def taskmanagers(self) -> list[dict]:
        """[{'name', 'pid', 'alive', 'registered'}] of the TaskManagers started here; registered =
        listed by the JobManager (a killed one stays listed until its heartbeat times out)."""
        try:
            ids = {t["id"] for t in self.rest("/taskmanagers").get("taskmanagers", [])}
        except (OSError, ValueError):
            ids = set()
        return [{"name": n, "pid": p, "alive": pid_alive(p), "registered": n in ids}
                for n, p in sorted(self.pids.items()) if n != "jobmanager"]

    def kill_taskmanager(self, name: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int:
        """Send ``sig`` to TaskManager ``name`` (SIGKILL: a crash, its Python workers are left
        orphaned as after a real one), wait until its JVM is gone, forget it; returns its pid."""
        pid = self.pids.get(name)
        if pid is None or name == "jobmanager":
            raise ClusterError(f"no TaskManager {name!r} (have {sorted(self.pids)})")
        if end_processes([pid], sig=sig, timeout=timeout, needle="org.apache.flink", escalate=False):
            raise ClusterError(f"{name} (pid {pid}) still alive {timeout}s after signal {sig}")
        del self.pids[name]
        self.metrics_ports.pop(name, None)
        self._save()
        return pid

    def _forget_dead(self) -> None:
        dead = [n for n, p in self.pids.items() if n != "jobmanager" and not pid_alive(p)]
        for n in dead:
            reap(self.pids.pop(n))
            self.metrics_ports.pop(n, None)
        if dead:
            self._save()

    def python_workers(self) -> list[int]:
        """Pids of the processes the cluster's JVMs started (Python UDF workers: the runner
        script, its Python and tee), found by the marker variable they inherit; JVMs excluded."""
        jvms = set(self.pids.values())
        return [p for p in _marked_processes(self.state_dir) if p not in jvms]

    def orphaned_python_workers(self) -> list[int]:
        """Python workers whose TaskManager is gone (after a kill -9 they were seen to stay for
        40 min): no live JVM of this cluster among their ancestors."""
        live = {p for p in self.pids.values() if pid_alive(p)}
        return [p for p in self.python_workers() if not (_ancestors(p) & live)]

    def alive(self) -> bool:
        return any(pid_alive(p) and cmdline_has(p, "org.apache.flink") for p in self.pids.values())

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the TaskManagers then the JobManager (our own pids), SIGKILL after ``timeout``;
        then end every process they started that is still there (Python workers, also those of
        TaskManagers killed earlier), found by the marker variable in their environment."""
        end_processes([self.pids[n] for n in sorted(self.pids, key=lambda n: n == "jobmanager")], timeout=timeout,
                      needle="org.apache.flink")
        end_processes(_marked_processes(self.state_dir))
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

    def latest_checkpoint(self, jid: str) -> str | None:
        """The latest completed checkpoint of job ``jid`` as the JobManager knows it
        (``/jobs/<jid>/checkpoints`` latest.completed.external_path, e.g.
        'file:/.../checkpoints/<jid>/chk-7'), or None. After a JobManager restart only the files
        remain: ``recovery.latest(cluster.checkpoint_dir)`` scans them."""
        latest = self.rest(f"/jobs/{jid}/checkpoints").get("latest") or {}
        return (latest.get("completed") or {}).get("external_path")

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
    @classmethod
    def _read(cls, d: dict) -> dict:
        d.setdefault("launched", sum(n != "jobmanager" for n in d["pids"]))
        return d


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m nql_flink.deploy.cluster",
                                description="Local standalone Flink cluster for sql-client.")
    p.add_argument("command", choices=["start", "stop", "status", "sql", "home", "taskmanagers",
                                        "start-taskmanager", "kill-taskmanager", "checkpoints", "cancel",
                                        "metrics"],
                   help="metrics: name and Prometheus endpoint of each JVM (scrape targets); "
                        "taskmanagers: name, pid, alive, registered; start-taskmanager: one more (e.g. after "
                        "a crash); kill-taskmanager NAME: SIGKILL (--signal TERM: a clean stop); checkpoints: "
                        "the retained checkpoints and savepoints, oldest first; cancel JOB_ID (its checkpoints "
                        "are retained)")
    p.add_argument("file", nargs="?", metavar="FILE|NAME",
                   help="SQL script for 'sql', TaskManager for 'kill-taskmanager', job id for 'cancel'")
    p.add_argument("--signal", default="KILL", choices=["KILL", "TERM"], help="kill-taskmanager: signal")
    p.add_argument("--job-name", help="checkpoints: of the deployments of this job name (deploy sql-client)")
    p.add_argument("--state-dir", default=os.environ.get("NQL_FLINK_STATE_DIR", str(DEFAULT_STATE_DIR)))
    p.add_argument("--pyfs", default="", help="comma-separated Python UDF files for 'sql'")
    p.add_argument("--init", help="init SQL file (-i) for 'sql'")
    p.add_argument("--taskmanagers", type=int, default=1, help="start: how many TaskManagers (default 1; "
                   "`make kafka-up TASKMANAGERS=2`)")
    p.add_argument("--slots", type=int, default=2, help="start: task slots per TaskManager (default 2)")
    p.add_argument("--no-fast-jvm", action="store_true", help="default JIT/GC (for throughput runs)")
    p.add_argument("--kafka", metavar="HOST:PORT",
                   help="start: NQL_KAFKA_BOOTSTRAP_SERVERS of the JVMs, which generated SQL references as "
                        "${env:NQL_KAFKA_BOOTSTRAP_SERVERS} (default: this shell's variable, else the local "
                        "broker of `python -m nql_flink.deploy.kafka start`)")
    a = p.parse_args(argv)
    try:
        return _command(a, p)
    except (ClusterError, jars.BuildError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _command(a, p) -> int:
    state = Path(a.state_dir)
    c = FlinkCluster.load(state)
    if a.command == "start":
        if c is not None and c.alive():
            print(c.rest_url)
            print(f"already running (pids {c.pids})", file=sys.stderr)
            return 0
        t0 = time.monotonic()
        from nql_flink.deploy.kafka.client import ENV_BOOTSTRAP, resolve_bootstrap

        bootstrap = resolve_bootstrap(a.kafka)
        env = {ENV_BOOTSTRAP: bootstrap} if bootstrap else {}
        print(f"{ENV_BOOTSTRAP}={bootstrap}" if bootstrap else f"{ENV_BOOTSTRAP} unset: jobs that reference it "
              "cannot connect", file=sys.stderr)
        c = FlinkCluster.start(state, taskmanagers=a.taskmanagers, slots=a.slots, fast_jvm=not a.no_fast_jvm,
                               env=env)
        print(c.rest_url)
        print(f"started {c.pids} in {time.monotonic() - t0:.1f}s; FLINK_HOME={c.home}", file=sys.stderr)
        return 0
    if a.command == "checkpoints":
        from nql_flink.deploy import recovery

        dirs = (recovery.job_state_dirs(state.resolve() / CHECKPOINTS, a.job_name) if a.job_name
                else (state.resolve() / CHECKPOINTS, state.resolve() / SAVEPOINTS))
        for r in recovery.retained(*dirs):
            print(f"{r.kind}\t{r.job_id or '-'}\t{r.url}")
        return 0
    if c is None:
        left = _marked_processes(state.resolve())
        end_processes(left)
        print("not running" + (f"; stopped {len(left)} leftover process(es) {left}" if left else ""),
              file=sys.stderr)
        return 0 if a.command == "stop" else 3
    if a.command == "stop":
        c.stop()
        print(f"stopped {c.pids}", file=sys.stderr)
        return 0
    if a.command == "home":
        print(c.home)
        return 0
    if a.command == "metrics":
        for name, url in c.metrics_urls().items():
            print(f"{name}\t{url}")
        return 0
    if a.command == "taskmanagers":
        for t in c.taskmanagers():
            print(f"{t['name']}\t{t['pid']}\t{'alive' if t['alive'] else 'dead'}\t"
                  f"{'registered' if t['registered'] else 'not registered'}")
        return 0
    if a.command == "kill-taskmanager":
        if not a.file:
            p.error("kill-taskmanager needs a TaskManager name (see: taskmanagers)")
        pid = c.kill_taskmanager(a.file, getattr(signal, "SIG" + a.signal))
        print(f"{a.file} (pid {pid}) ended by SIG{a.signal}", file=sys.stderr)
        return 0
    if not c.alive():
        print("dead (stale pids); run stop to clean up", file=sys.stderr)
        return 3
    if a.command == "cancel":
        if not a.file:
            p.error("cancel needs a job id")
        c.cancel(a.file)
        print(f"cancelling {a.file}; latest checkpoint {c.latest_checkpoint(a.file)}", file=sys.stderr)
        return 0
    if a.command == "start-taskmanager":
        name = c.start_taskmanager()
        print(name)
        print(f"started {name} (pid {c.pids[name]})", file=sys.stderr)
        return 0
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
