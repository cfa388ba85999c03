"""``python -m ecs_platform.cli COMMAND ...``: the same as the ``ecs-platform`` command."""

import sys

from ecs_platform.cli import main

sys.exit(main())
