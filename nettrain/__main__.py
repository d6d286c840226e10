"""`python -m nettrain` and the `nettrain` script run the command-line tool."""

import sys


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the program is still starting: no traceback
        sys.stderr.write("\nInterrupted.\n")
        raise SystemExit(130) from None
    run()


if __name__ == "__main__":
    main()
