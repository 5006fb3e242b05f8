"""``python -m launcher [overrides]``: the app of launcher/run.py, from anywhere it is installed."""
from launcher.run import main

if __name__ == "__main__":
    main()
