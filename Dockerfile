FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 1000 tandem
COPY pyproject.toml constraints.txt README.md ./
# The project's own dependency list (pyproject.toml), pinned by constraints.txt: a list
# kept here by hand fell behind it.
RUN pip install -c constraints.txt .
COPY --chown=tandem:tandem . .
# collectstatic needs a key but no database; the real key comes from the environment.
RUN SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS=localhost python manage.py collectstatic --no-input \
    && mkdir -p /data/media && chown -R tandem:tandem /data /app
USER tandem
VOLUME ["/data/media"]
EXPOSE 8000
CMD ["uvicorn", "helpdesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", "--timeout-graceful-shutdown", "10"]
