"""``python -m fashionkit.cli``: the ``fashionkit`` command."""

import sys

from fashionkit.cli import main

sys.exit(main())
