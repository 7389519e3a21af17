"""Local standalone Flink cluster built from the PyFlink wheel (see cluster.py)."""
from nql_flink.deploy.cluster.cluster import ClusterError, FlinkCluster, make_flink_home, pyflink_dir

__all__ = ["ClusterError", "FlinkCluster", "make_flink_home", "pyflink_dir"]
