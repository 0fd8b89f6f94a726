FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
ENV LOS_CHROMIUM_PATH=/usr/bin/chromium
CMD ["los", "api"]
