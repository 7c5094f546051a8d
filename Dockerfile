# The tritonscale controller image (manifests/controller.yaml runs it):
#
#   docker build -t ghcr.io/tritonscale/tritonscale:0.1.0 .
#
# The tag is the package version (controller/kube/install/names.ts DEFAULT_CONTROLLER_IMAGE).
# Base: the Node.js 24 LTS Debian slim image, pinned by its full version tag; bump it with
# the LTS line. test/metrics/image.test.ts checks this file (stages, pins, user, entry point).

# --- build: compile TypeScript to dist/ ---------------------------------------------------
FROM node:24.20.0-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies and the compiled controller -------------------------
FROM node:24.20.0-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the TypeScript build, and the compiler is a dev
# dependency; dist/ comes from the build stage instead.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/controller ./dist/controller
COPY protos/ ./protos/
COPY repo-templates/ ./repo-templates/
COPY manifests/ ./manifests/
COPY examples/ ./examples/
# A fixed non-root user (the Deployment's runAsUser); no home, no shell.
RUN groupadd --system --gid 65532 tritonscale \
  && useradd --system --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin tritonscale
USER 65532:65532
# metrics, health, KEDA external scaler (gRPC): the `controller` command's default ports.
EXPOSE 8080 8081 9090
# `tritonscale controller`: the package's bin (dist/controller/cli/main.js) and the command;
# the Deployment's args add the flags.
ENTRYPOINT ["node", "/app/dist/controller/cli/main.js", "controller"]
