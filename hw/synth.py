"""`make synth`: not implemented yet (see the issue tracker)."""

import sys

if __name__ == "__main__":
    print("synth: not implemented yet", file=sys.stderr)
    sys.exit(1)
