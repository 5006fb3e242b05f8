"""What every test process needs first: the app's own schema, registered as launcher/run.py registers it."""
from launcher.request.launch_options import register_launch_schema

register_launch_schema()
