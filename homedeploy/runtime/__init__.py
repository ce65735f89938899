"""Running the app like a dyno: the web process under gunicorn and the local deploy rehearsal."""
