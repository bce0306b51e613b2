# The backlog MCP server on stdio: `docker build -t backlog .`, then
# `docker run --rm -i -v "$PWD/tasks:/data" backlog` (README, "Container").
# BASE: any image with `python3` (>= 3.10, with venv and ensurepip) and `useradd` on PATH;
# CI builds on a debootstrapped Debian bookworm, users on the official image.
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
# EXTRAS: optional dependencies to install: `s3` (boto3, ~30 MB) so a team can point the
# server at a bucket with BACKLOG_BACKEND=s3; `--build-arg EXTRAS=` leaves it out.
ARG EXTRAS=s3
# PIP_CERT: a CA bundle path for pip, when downloads go through a TLS-re-signing proxy
# (bind-mount the host's bundle for the build; it is never copied into the image).
ARG PIP_CERT
COPY pyproject.toml constraints.txt README.md /src/
COPY server /src/server
# The exact pins (PIP_CONSTRAINT reaches the isolated build of the package too); pip and
# setuptools leave the venv afterwards: the image runs the server, it installs nothing.
RUN python3 -m venv /opt/backlog \
 && PIP_CONSTRAINT=/src/constraints.txt /opt/backlog/bin/python -m pip install \
      --no-cache-dir --disable-pip-version-check "/src${EXTRAS:+[$EXTRAS]}" \
 && /opt/backlog/bin/python -m pip uninstall -q -y pip setuptools \
 && /opt/backlog/bin/backlog --help >/dev/null

FROM ${BASE}
COPY --from=build /opt/backlog /opt/backlog
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data --shell /usr/sbin/nologin backlog \
 && mkdir /data && chown 10001:10001 /data
ENV PATH=/opt/backlog/bin:$PATH \
    TASKDATA=/data \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /data
VOLUME /data
ENTRYPOINT ["backlog", "serve"]
