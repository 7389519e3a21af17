import sys

from deploy.kafka.broker import main

sys.exit(main())
