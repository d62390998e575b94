# One image for all four services and the CLI (pick one with the command, see docker-compose.yml and
# the Helm chart). Production runs the JavaScript tsc compiled; the image holds that output and the
# production dependencies only — no TypeScript sources, no tests, no tsx, no local ClickHouse engine
# (deployments use a real ClickHouse server). Files belong to root; the process runs as `node`.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY . .
# Exactly the lockfile; then compile every workspace into its dist/ and lay out the image's files
# (scripts/stage-image.mjs, also run by deploy/src/image-layout.int.test.ts) with production deps only.
RUN npm ci --no-audit --no-fund \
 && npx tsc -b \
 && node scripts/stage-image.mjs /out \
 && cd /out && npm ci --omit=dev --omit=optional --no-audit --no-fund \
 && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /out /app
USER node
# --conditions=kaudit-dist: workspace packages resolve to their compiled dist/ (see their "exports").
# The heap flags are SERVICE_V8_FLAGS (libs/stack/src/service-node-args.ts, checked by its test): a capped
# young and old generation, so each service stays under 300 MiB RSS (the chart's memory limits assume them).
# They are NODE_OPTIONS, not ENTRYPOINT arguments, because node's command line wins over NODE_OPTIONS: set
# NODE_OPTIONS in a component's extraEnv to give a service with larger fetch limits a larger heap.
ENV NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=160"
ENTRYPOINT ["node", "--conditions=kaudit-dist", "--enable-source-maps"]
# Override with: services/<ingest|enrich|sink|alert>/dist/main.js, or cli/dist/main.js <command>
CMD ["services/ingest/dist/main.js"]
