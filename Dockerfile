# Marketplace application image: one image runs gunicorn (web), uvicorn (ws),
# the Celery worker, Celery beat and the one-shot migrate job; docker-compose.yml
# picks the command for each.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Unprivileged runtime user; the code stays root-owned and read-only to it.
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so editing the code does not reinstall them. pyproject.toml
# declares no packages, so `pip install .` only pulls in the dependencies.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .

COPY . .

# Static files are baked into the image (whitenoise serves them from gunicorn).
# The production settings need a secret, hosts and a database URL just to load; the
# throwaway values below exist only for this RUN and are not kept in the image env.
RUN DJANGO_SETTINGS_MODULE=marketplace.settings.production \
    SECRET_KEY=build-time-only-not-a-real-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && rm -f /tmp/build.sqlite3 \
 && mkdir -p /app/media /app/private-media \
 && chown app:app /app/media /app/private-media

# MEDIA_ROOT: the named volume mounted here starts out owned by `app` (Docker copies
# the ownership of this directory into an empty volume on first use).
ENV MEDIA_ROOT=/app/media

USER app

EXPOSE 8000 8001

CMD ["gunicorn", "marketplace.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
