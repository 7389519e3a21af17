"""The ports the local services (Kafka broker, Flink cluster, receivers) are started on."""
from __future__ import annotations

import socket

from nql_flink.deploy.local_service import ephemeral_ports, free_port


def test_a_free_port_is_below_the_kernels_ephemeral_range_and_can_be_bound():
    # a port in the ephemeral range can be handed to any outgoing connection before the
    # service binds it (a JobManager failed to start so)
    low, high = ephemeral_ports()
    assert 1024 <= low <= high
    ports = [free_port() for _ in range(50)]
    assert all(1024 <= p < low for p in ports)
    assert len(set(ports)) == 50  # never the same twice in a process
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))

