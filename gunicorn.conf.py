"""The production web server's settings – the one place for them.

Used by the Dockerfile (``gunicorn -c gunicorn.conf.py``), by tests/test_serving.py (the slow-client test
starts exactly that command) and by bench/load.py. Options given on the command line win over this file,
e.g. ``--bind 127.0.0.1:8001`` or, for comparison, the former setup
``--worker-class sync --workers 3 --threads 1``.

Worker model (issue 9, "slow clients"): each worker process runs an asyncio event loop (uvicorn) that
reads every request completely before a thread runs the Flask app; a client that trickles its request costs
a socket, not a worker (sync) or a pool thread (gthread). Reasons and details: webapp/serving.py.
"""

import os

wsgi_app = "webapp.wsgi:app"
bind = "0.0.0.0:8000"

worker_class = "webapp.serving.EgsWorker"
# Processes and threads, measured with bench/load.py on the 2-core VM (README, "Leistung"): the app is
# CPU-bound Python, and the threads of one process share one core through the interpreter lock – worse,
# a thread coming back from a database round trip waits for a busy one to let go of the lock. 2 processes
# × 8 threads answered 100 clerks with a p95 2–4 times that of the former 3 sync processes; 4 × 2 came
# close to it. Two processes per core overlap one process's waits (database, jail) with another's work;
# the second thread keeps a process answering while one request waits long (a jail step, an export).
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = 2  # per process: requests that run at once; each holds at most one database connection
# Open connections per process, slow ones included; beyond it uvicorn answers 503 immediately.
worker_connections = 1000

keepalive = 5  # seconds an idle keep-alive connection stays open
timeout = 60  # a worker whose event loop does not answer the arbiter this long is restarted
graceful_timeout = 30
preload_app = False  # every process builds its own app and database pool after the fork

accesslog = "-"  # uvicorn's access lines, without query values or client address (webapp/serving.py)
# Behind the TLS proxy, set FORWARDED_ALLOW_IPS (gunicorn's forwarded_allow_ips; default: this machine) to the
# proxy's address, so the app sees each client's own address (X-Forwarded-For): the login throttle limits
# tries per address, and without it every client would share the proxy's.


def when_ready(server):  # type: ignore[no-untyped-def]
    """Start-up log of the master (once, not per worker): warnings of the business configuration (VZÄ sum)."""
    from engine.config import load_settings
    from engine.errors import EngineError
    from engine.konfiguration import load_konfiguration, log_warnings

    try:
        log_warnings(load_konfiguration(load_settings().config_file), server.log)
    except EngineError:
        pass  # the workers refuse to start with the same German message
