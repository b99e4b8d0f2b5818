"""The supervisors' web app: Starlette, Jinja2, htmx and server-sent events (app.py), its own
store of accounts, sessions and consultations (store.py), and signed actions (actions.py)."""
