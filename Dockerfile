# pypowerwall-server container image: docker build -t pypowerwall-server:local .
# Two stages: the first builds the wheel from the sources, the second installs that wheel
# alone (with its dependencies from PyPI) into a virtualenv and runs as a non-root user.
# Configuration: PW_* variables or a mounted config file (PW_CONFIG); see README "Run it for real".
# tests/unit/test_dockerfile.py checks this file; tests/integration/test_wheel_install.py runs
# its ENTRYPOINT and HEALTHCHECK from a wheel-only virtualenv against the simulator.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN pip install --no-cache-dir "build>=1.2,<2"
COPY pyproject.toml README.md LICENSE ./
COPY pypowerwall_server ./pypowerwall_server
RUN python -m build --wheel --outdir /dist

FROM ${PYTHON_IMAGE}
ENV VIRTUAL_ENV=/opt/pypowerwall-server \
    PATH=/opt/pypowerwall-server/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --no-cache-dir /tmp/dist/pypowerwall_server-*.whl \
    && rm -rf /tmp/dist \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin pypowerwall \
    && mkdir -p /auth /data \
    && chown pypowerwall:pypowerwall /auth /data

# Cloud/FleetAPI auth files (written by --setup) and the server's own files (the generated
# HTTPS certificate) live in volumes, so a new container keeps them.
ENV PW_AUTHPATH=/auth \
    PW_DATA_DIR=/data
VOLUME ["/auth", "/data"]
WORKDIR /data
USER 10001:10001

# 8675: HTTP (always); 8775: HTTPS when PW_HTTPS=yes.
EXPOSE 8675 8775

# The interpreter already in the image asks GET /health (no curl): exit 0 when every or some
# gateway is fresh (healthy/degraded), 1 when none is (unhealthy) or the server does not answer.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "pypowerwall_server.healthcheck"]

# The server itself is PID 1 and handles SIGTERM (docker stop): it closes the listeners,
# the streams and the pollers, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pypowerwall-server"]
