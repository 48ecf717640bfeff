"""`python -m bff_mobile`: run the mobile BFF."""

from bff_mobile.app import create_app
from bff_mobile.settings import load_settings
from service_defaults.serve import serve

serve("bff_mobile", load_settings, create_app)
