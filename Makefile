# The only set-up there is: `make demo` and `make test` create .venv from requirements.lock first
# (`make test` also installs Prometheus Alertmanager, promtool and PostgreSQL from the OS packages,
# for the notifier's, the operating rules' and the alert history's tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ALERTMANAGER := /usr/bin/prometheus-alertmanager
PROMTOOL     := /usr/bin/promtool

# $(call os_packages,WHAT,PACKAGES[,APT OPTIONS]): Debian packages, installed once (apt-get update
# only when the install fails without it); with sudo unless root.
define os_packages
	@echo "==> installing $(1) from the OS packages (first run only)"
	@SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get install -y -q $(3) $(2) >/dev/null \
	  || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $(3) $(2) >/dev/null; }
endef

.PHONY: demo test test-benchmarks check postgresql bench bench-seasonal bench-throughput bench-job-cost bench-stage-cost bench-read-rate bench-many-monitors bench-cpu-profile \
	bench-alert-latency bench-state-bytes bench-issue-15 test-differential clean kafka-up kafka-down receivers-up receivers-down check-rules promtool postgresql-packages

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned Python dependencies into $(VENV) (first run only)"
	@$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	@$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	@touch $@

demo: $(STAMP)
	@$(BIN)/nql-flink demo

# The benchmark scripts' end-to-end --smoke runs (marker `benchmark`, ~6 min: each starts JVMs of
# its own, several against a worktree of HEAD) are `make test-benchmarks`, run whenever a benchmark
# or what it measures changes; `make test` (CI, 30 min on 2 cores) runs everything else.
# Two pytest-xdist workers: tests/kafka (mostly waiting on brokers, clusters and checkpoints) on one,
# the rest on the other (tests/conftest.py pytest_xdist_make_scheduler). WORKERS=0: one process.
WORKERS ?= 2
test: $(STAMP) $(ALERTMANAGER) $(PROMTOOL) postgresql
	@$(BIN)/python -m pytest -q -n $(WORKERS) -m "not benchmark"

test-benchmarks: $(STAMP)
	@$(BIN)/python -m pytest -q -m benchmark

# The differential test at length: EXAMPLES jobs of 500 generated monitor/telemetry cases each,
# on embedded Flink and on chdb (CI runs one; ~1 min each). SEED=n reruns one failing example.
EXAMPLES ?= 10
test-differential: $(STAMP)
	@NQL_DIFFERENTIAL_EXAMPLES=$(EXAMPLES) $(if $(SEED),NQL_DIFFERENTIAL_SEED=$(SEED)) \
	  $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/clickhouse/test_differential_generated.py

# PostgreSQL server and psql from the OS packages, once: the alert history's tests start a
# server of their own on loopback (tests/postgres_server.py); `nql-flink history init` uses psql.
postgresql:
	@if ! command -v psql >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory postgresql-packages; \
	fi

postgresql-packages:
	$(call os_packages,PostgreSQL,postgresql postgresql-client)

# Prometheus Alertmanager from the OS packages (Debian: prometheus-alertmanager, 0.25.0), once:
# the notifier's tests start it on loopback (tests/notify/servers.py); its service is not started.
$(ALERTMANAGER):
	$(call os_packages,prometheus-alertmanager,prometheus-alertmanager)

# promtool from the OS packages (Debian: prometheus, 2.42.0, without its recommended exporters),
# once: tests/operating/test_alerting_rules.py runs `promtool check rules` and `promtool test rules`
# on the operating rules (deploy/prometheus); the Prometheus service is not started.
$(PROMTOOL):
	$(call os_packages,promtool (prometheus),prometheus,--no-install-recommends)

check: $(STAMP)
	@$(BIN)/nql-flink check examples/

# Figures and ratios against a reference run in the same process (never timed tests).
bench: $(STAMP)
	@$(BIN)/python benchmarks/check_rate.py
	@$(BIN)/python benchmarks/compile_rate.py
	@$(BIN)/nql-flink bench nab --data ../shared/data/nab --quiet

# Seasonal vs threshold monitor on embedded Flink: several minutes.
bench-seasonal: $(STAMP)
	@$(BIN)/python benchmarks/seasonal_throughput.py

# The seed monitor's job, this checkout against main (AGAINST=rev), alternating runs: ~20 minutes.
AGAINST ?= main
bench-throughput: $(STAMP)
	@$(BIN)/python benchmarks/throughput.py --against $(AGAINST)

# The seed monitor's generated job against raw and JSON passthrough and a hand-written Flink SQL
# reference (benchmarks/reference/), one file, alternating runs: ~25 minutes (issue 15).
bench-job-cost: $(STAMP)
	@$(BIN)/python benchmarks/job_cost.py

# What each stage of a generated job costs: the job and copies with stages taken out
# (SET=seed: the clock, the inventory join; SET=same: the config join, the alert states),
# alternating runs: ~15 minutes (issue 15, docs/flink-job-shape.md §7).
SET ?= seed
bench-stage-cost: $(STAMP)
	@$(BIN)/python benchmarks/stage_cost.py --set $(SET)

# Where the windows thread's CPU goes in same 1 and same 1000 (SIZES_PROFILE), frame by frame,
# under async-profiler (deploy/profiler, from Maven Central): ~3 minutes.
SIZES_PROFILE ?= 1,1000
bench-cpu-profile: $(STAMP)
	@$(BIN)/python benchmarks/cpu_profile.py --sizes $(SIZES_PROFILE) --under WindowsFunction.fire --under WindowsFunction.judge

# nql_read alone, this checkout's build against main's (AGAINST=rev) and Flink's JSON format, in one JVM: ~1 minute.
bench-read-rate: $(STAMP)
	@$(BIN)/python benchmarks/read_rate.py --against $(AGAINST)

# Issue 15 benchmarks 3-5 (docs/benchmarks.md). Many monitors on one table: submit time, JVM
# memory and throughput of 1, 10, 100, 1,000 monitors against 1 (SIZES; a size that does not
# plan within TIMEOUT seconds is reported as such): an hour or more.
SIZES ?= 1,10,100,1000
TIMEOUT ?= 900
bench-many-monitors: $(STAMP)
	@$(BIN)/python benchmarks/many_monitors.py --sizes $(SIZES) --timeout $(TIMEOUT)

# Alert latency on a live source and a real broker (started here), p50/p95/p99: ~5 minutes.
bench-alert-latency: $(STAMP)
	@$(BIN)/python benchmarks/alert_latency.py

# Checkpointed state bytes per group and per monitor (1 and 10 monitors, a real broker): ~15 minutes.
bench-state-bytes: $(STAMP)
	@$(BIN)/python benchmarks/state_bytes.py

# Issue 15's Done-when figures, each command as docs/benchmarks.md ("Issue 15's Done-when")
# reads it: the seed monitor against the hand-written reference and the JSON passthrough; 100
# distinct shapes; 1,000 same-shape monitors over 100 tenants of 50 devices, and of 20 beside
# one hand-written query over the same tenants; the alert latency: about an hour, nothing else
# running.
bench-issue-15: $(STAMP)
	@$(BIN)/python benchmarks/job_cost.py --hours 6 --runs 3
	@$(BIN)/python benchmarks/many_monitors.py --families distinct --sizes 1,100 --hours 12 --runs 5 --startup-runs 0
	@$(BIN)/python benchmarks/many_monitors.py --families same --sizes 1,1000 --hours 12 --devices 5000 --runs 5 --startup-runs 0
	@$(BIN)/python benchmarks/many_monitors.py --families same --sizes 1,1000 --hours 12 --runs 3 --startup-runs 0 --handwritten
	@$(BIN)/python benchmarks/alert_latency.py

# Local Kafka broker + Flink cluster (build/kafka, build/flink-cluster); jars built on first use.
# The cluster's JVMs get NQL_KAFKA_BOOTSTRAP_SERVERS = the broker (see docs/kafka-and-cluster.md).
# TASKMANAGERS=2 starts two TaskManagers (2 slots each) for jobs deployed with --parallelism 2.
TASKMANAGERS ?= 1
kafka-up: $(STAMP)
	@$(BIN)/python -m nql_flink.deploy.kafka start
	@$(BIN)/python -m nql_flink.deploy.cluster start --taskmanagers $(TASKMANAGERS)

# The alerting rules for operating a job (deploy/prometheus): layout, and with promtool its PromQL
# check and the unit tests of when each rule fires (docs/operating.md).
check-rules: $(STAMP)
	@$(BIN)/python -m nql_flink.deploy.prometheus check

promtool: $(PROMTOOL)

kafka-down:
	-@$(BIN)/python -m nql_flink.deploy.cluster stop
	-@$(BIN)/python -m nql_flink.deploy.kafka stop

# Local receivers for the notifier (build/receivers): an SMTP server and a webhook keeping what they
# get as files, and Alertmanager from the OS packages, on the loopback addresses of RECEIVERS
# (`nql-flink receivers up|show|down`; the secrets' variables must be exported, docs/notify.md).
RECEIVERS ?= docs/receivers.example.yaml
receivers-up: $(STAMP) $(ALERTMANAGER)
	@$(BIN)/nql-flink receivers up --receivers $(RECEIVERS)

receivers-down:
	-@$(BIN)/nql-flink receivers down

clean:
	rm -rf $(VENV) build *.egg-info
