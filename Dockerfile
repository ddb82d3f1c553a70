# Production image: web app (gunicorn) and timer worker share it.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend ./frontend
RUN npm run --silent build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 EGS_ENV=production
WORKDIR /app
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY engine ./engine
COPY webapp ./webapp
COPY --from=frontend /src/webapp/static/dist ./webapp/static/dist
RUN pip install --no-cache-dir . && useradd --system --home /app egs
COPY processes ./processes
COPY forms ./forms
COPY config ./config
RUN mkdir -p /var/lib/egs/audit-anker && chown egs /var/lib/egs/audit-anker
USER egs
EXPOSE 8000
# Server settings (worker model against slow clients, processes, threads): gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
