# One image for every Frontdoor process; the command picks which one runs.
# The last stage, `production`, is the default target; `dev` is for Tilt's live
# update only (infra/overlays/dev, the Tiltfile).
FROM python:3.11-slim AS base

COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, in their own layer: source edits do not reinstall them.
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-install-project

COPY service_defaults ./service_defaults
COPY bff_kit ./bff_kit
COPY edge ./edge
COPY bff_web ./bff_web
COPY bff_mobile ./bff_mobile
COPY services ./services
COPY devstack ./devstack
COPY infra/edge ./infra/edge

# Compiled now: the containers run with a read-only root filesystem, where Python
# could not write its bytecode cache at start-up.
RUN python -m compileall -q service_defaults bff_kit edge bff_web bff_mobile services devstack

RUN useradd --system --uid 10001 --home-dir /app frontdoor && mkdir -p /data && chown frontdoor /data
USER frontdoor

# The code writable by the app user, so that Tilt can sync changed files into a
# running container; never built for production.
FROM base AS dev
USER root
RUN chown -R frontdoor /app
USER frontdoor

FROM base AS production
