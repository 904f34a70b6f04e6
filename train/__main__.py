"""`make train`: not implemented yet (see the issue tracker)."""

import sys

if __name__ == "__main__":
    print("train: not implemented yet", file=sys.stderr)
    sys.exit(1)
