"""The embedded mini-cluster's JVM heap is bounded, as a TaskManager's is (deploy/embedded/runner.py
jvm_args): 1 GB unless $NQL_FLINK_HEAP says otherwise, and never over a -Xmx the user gave."""

from nql_flink.deploy.embedded.runner import jvm_args


def test_the_default_heap_is_one_gigabyte():
    assert jvm_args({}) == "-Xmx1g"


def test_nql_flink_heap_sets_it():
    assert jvm_args({"NQL_FLINK_HEAP": "3g"}) == "-Xmx3g"


def test_other_jvm_args_are_kept():
    assert jvm_args({"JVM_ARGS": "-Xlog:gc:file=/tmp/gc.log"}) == "-Xlog:gc:file=/tmp/gc.log -Xmx1g"


def test_a_heap_in_jvm_args_wins():
    assert jvm_args({"JVM_ARGS": "-Xms256m -Xmx512m", "NQL_FLINK_HEAP": "3g"}) == "-Xms256m -Xmx512m"
