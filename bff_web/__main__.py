"""`python -m bff_web`: run the web BFF."""

from bff_web.app import create_app
from bff_web.settings import load_settings
from service_defaults.serve import serve

serve("bff_web", load_settings, create_app)
