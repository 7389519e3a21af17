import sys

from nql_flink.deploy.kafka.broker import main

sys.exit(main())
