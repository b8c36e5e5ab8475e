# Wegweiser as a container image: `docker build -t wegweiser .` (or `docker compose build`).
#
# Two stages on the same pinned base: the builder makes the wheel (content/ and locales/ are
# bundled in it) and installs it with its dependencies into /opt/venv; the final image gets
# that venv only: no compiler, no pip, no source tree. Every dependency has a manylinux wheel
# for CPython 3.11 on amd64 and arm64 (matrix-nio 0.26 encrypts with vodozemac, which ships
# wheels; python-olm and libolm are not needed), so nothing is compiled here.
#
# The base image: python:3.11.16-slim-bookworm, pinned by tag and by the digest of its
# multi-architecture index as listed in docker-library/repo-info
# (repos/python/remote/3.11.16-slim-bookworm.md). To update it, change both together, e.g.
# with the digest that `docker buildx imagetools inspect python:3.11.NN-slim-bookworm` prints.
# Without Docker Hub (a mirror, an offline machine): --build-arg PYTHON_IMAGE=<your copy>.
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:c425d915a89a6dcd3183b1797ad9bd8878caff5a417f6371c8df93c8ea8b727f

# ---------------------------------------------------------------------------------- build --
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv

WORKDIR /src

# The dependencies first, from pyproject.toml alone: this layer is rebuilt only when they
# change, not on every edit of the code or the catalogue. Wheels only: a dependency without
# one for this platform stops the build here with its name, instead of needing a compiler.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --only-binary=:all: --requirement /tmp/requirements.txt

# Then Wegweiser itself, as the wheel users get (hatchling comes from PyPI for the build).
COPY README.md ./
COPY bot ./bot
COPY content ./content
COPY locales ./locales
RUN python -m pip wheel --no-deps --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install --no-deps /tmp/dist/wegweiser-*.whl \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# ---------------------------------------------------------------------------------- final --
FROM ${PYTHON_IMAGE}

# The counter card as a picture needs headless Chromium and the Noto fonts (README, "Running
# on Telegram"); without them the bot sends the card as text. Off by default because it makes
# the image several times larger: `docker build --build-arg WITH_CHROMIUM=1 .`
ARG WITH_CHROMIUM=0
RUN if [ "$WITH_CHROMIUM" = "1" ]; then \
        apt-get update \
        && apt-get install --yes --no-install-recommends chromium fonts-noto-core fontconfig \
        && apt-get clean && rm -rf /var/lib/apt/lists/*; \
    fi

# A user of its own with a fixed id (file ownership on volumes and Kubernetes'
# runAsNonRoot need a number), owning the data directory and nothing else.
RUN groupadd --system --gid 10001 wegweiser \
    && useradd --system --uid 10001 --gid wegweiser --home-dir /var/lib/wegweiser \
        --no-create-home --shell /usr/sbin/nologin wegweiser \
    && install --directory --owner=wegweiser --group=wegweiser --mode=0750 /var/lib/wegweiser

COPY --from=builder /opt/venv /opt/venv

# Metrics and health on every address of the container, so that the published port and a
# scraper reach them (`wegweiser status` then asks 127.0.0.1). The parse cache goes to /tmp,
# which stays writable when the root filesystem is read-only (compose.yaml: tmpfs).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WEGWEISER_DATA_DIR=/var/lib/wegweiser \
    WEGWEISER_CACHE_DIR=/tmp/wegweiser-cache \
    WEGWEISER_METRICS_LISTEN=0.0.0.0:9464

USER 10001:10001
WORKDIR /var/lib/wegweiser
# Conversations (SQLite, when no Redis), the Matrix device keys and sync position: keep it.
VOLUME ["/var/lib/wegweiser"]
EXPOSE 9464

# SIGTERM lets the turns in flight finish, then the bot exits 0 (docs/operations.md).
STOPSIGNAL SIGTERM
# `status` exits 0 healthy, 1 unhealthy, 2 unreachable; Docker wants 0 or 1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD wegweiser status --quiet || exit 1

ENTRYPOINT ["wegweiser"]
CMD ["run"]
