"""`make deploy`: not implemented yet (see the issue tracker)."""

import sys

if __name__ == "__main__":
    print("deploy: not implemented yet", file=sys.stderr)
    sys.exit(1)
