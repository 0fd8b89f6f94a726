FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
ENV LOS_CHROMIUM_PATH=/usr/bin/chromium-headless-shell PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# the API; the worker's Temporal SDK metrics and business counters (LOS_WORKER_METRICS_PORT)
EXPOSE 8000 9464 9465
# `los worker` drains on SIGTERM: it stops polling, Temporal hands what it held to the other workers
STOPSIGNAL SIGTERM
CMD ["los", "api"]
