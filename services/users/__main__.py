"""`python -m services.users`: run the users service."""

from service_defaults.serve import serve
from services.users.app import create_app
from services.users.settings import load_settings

serve("users", load_settings, create_app)
