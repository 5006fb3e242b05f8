"""What every test process needs first: the app's own configs, registered as the app registers them."""
from launcher.run import register_app

register_app()
