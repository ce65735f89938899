"""Allow ``python -m homedeploy``."""

from homedeploy.cli import main

if __name__ == "__main__":
    main()
