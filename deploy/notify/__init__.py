"""The notifier (`nql-flink notify`, docs/notify.md): alert transitions from the alert topic
to webhook, email and Alertmanager receivers, at least once, each with its idempotency key.

  alert.py      the record read and checked; idempotency key, labels, fingerprint
  payloads.py   what each kind of receiver is sent (no network)
  receivers.py  the receivers file (coded diagnostics) and the monitors' routes
  senders.py    one delivery attempt: delivered, retry or rejected
  service.py    one consumer group and worker per receiver, commits, metrics
"""
