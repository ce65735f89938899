"""Heroku: the Platform API client, git push, app choice, credentials and build output parsing."""
