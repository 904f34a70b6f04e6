"""`make sim`: not implemented yet (see the issue tracker)."""

import sys

if __name__ == "__main__":
    print("sim: not implemented yet", file=sys.stderr)
    sys.exit(1)
