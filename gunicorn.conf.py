"""The production web server's settings – the one place for them.

Used by the Dockerfile (``gunicorn -c gunicorn.conf.py``), by tests/test_serving.py (the slow-client test
starts exactly that command) and by bench/load.py. Options given on the command line win over this file,
e.g. ``--bind 127.0.0.1:8001`` or, for comparison, the old setup ``--worker-class sync --workers 3``.

Worker model (issue 9, "slow clients"): each worker process runs an asyncio event loop (uvicorn) that
reads every request completely before a thread runs the Flask app; a client that trickles its request costs
a socket, not a worker (sync) or a pool thread (gthread). Reasons and details: webapp/serving.py.
"""

import os

wsgi_app = "webapp.wsgi:app"
bind = "0.0.0.0:8000"

worker_class = "webapp.serving.EgsWorker"
# One process per core of the 2-core production VM (WEB_CONCURRENCY overrides it on bigger machines).
# The app is CPU-bound Python; more processes than cores only add memory and context switches.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per process that run complete requests: enough to overlap database waits (commits, locks)
# with the other requests' Python work; each thread holds at most one database connection
# (SQLAlchemy's pool gives 5 + 10 overflow per process).
threads = 8
# Open connections per process, slow ones included; beyond it uvicorn answers 503 immediately.
worker_connections = 1000

keepalive = 5  # seconds an idle keep-alive connection stays open
timeout = 60  # a worker whose event loop does not answer the arbiter this long is restarted
graceful_timeout = 30
preload_app = False  # every process builds its own app and database pool after the fork

accesslog = "-"
