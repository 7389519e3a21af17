"""Amazon Managed Service for Apache Flink: the package (package.py), its driver (main.py,
shipped inside the zip), and the CreateApplication / UpdateApplication request and
CloudFormation template of `nql-flink deploy managed-flink` (aws.py). docs/managed-flink.md."""
