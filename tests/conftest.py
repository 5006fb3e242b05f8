"""What every test process needs first: the app's own configs, registered as the app registers
them, and a cache of installed robomimics' schemas of its own (never the user's ~/.cache)."""
import os
import tempfile

os.environ["XDG_CACHE_HOME"] = os.path.join(tempfile.gettempdir(), f"robomimic-sweep-tests-{os.getuid()}")

from launcher.run import register_app  # noqa: E402

register_app()
