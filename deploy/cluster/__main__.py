import sys

from deploy.cluster.cluster import main

sys.exit(main())
