from animsup.cli import entrypoint

entrypoint()
