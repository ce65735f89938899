"""Run the Heroku stand-in by hand: ``python -m tests.heroku_standin`` (from the checkout).

Prints the ``export`` lines to paste into another shell, then serves until Ctrl-C. Options:
``--app NAME`` pre-creates an app; ``--taken NAME`` makes a name belong to "someone else";
``--dynos`` runs each release's web command for real (see dynos.py).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time

from . import HerokuStandIn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.heroku_standin")
    parser.add_argument("--app", action="append", default=[], help="pre-create an app")
    parser.add_argument("--taken", action="append", default=[], help="a name owned by others")
    parser.add_argument(
        "--dynos", action="store_true", help="really run each release's web command (gunicorn)"
    )
    args = parser.parse_args()
    standin = HerokuStandIn(run_dynos=args.dynos).start()
    for name in args.app:
        standin.add_app(name)
    standin.state.taken_names.update(args.taken)
    schema = "on" if standin.validator else "off (../shared/heroku schema not found)"
    print(f"# Heroku stand-in running (schema validation {schema}). Paste into another shell:")
    for key, value in standin.env().items():
        print(f"export {key}={shlex.quote(value)}")
    print("# Ctrl-C (or SIGTERM) to stop.", flush=True)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        errors = standin.state.schema_errors
        standin.stop()
        if errors:
            print("schema violations seen:", *errors, sep="\n  ", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
