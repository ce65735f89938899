"""homedeploy: take a Flask app from a laptop to a working Heroku deploy in one pass."""

__version__ = "0.1.0"
