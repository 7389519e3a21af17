import sys

from nql_flink.deploy.cluster.cluster import main

sys.exit(main())
