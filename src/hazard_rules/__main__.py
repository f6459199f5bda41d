"""``python -m hazard_rules``."""

import sys

from hazard_rules.cli import main

sys.exit(main())
