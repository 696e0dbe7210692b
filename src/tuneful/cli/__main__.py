"""``python -m tuneful.cli``: the same as the ``tuneful`` command."""

from tuneful.cli import main

if __name__ == "__main__":
    main()
