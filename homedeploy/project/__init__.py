"""The project on disk: the Flask app, its Procfile, Python version files, git tree and venv."""
