# One image for all four services (pick one with the command, see docker-compose.yml).
# Services run their TypeScript through tsx (a runtime dependency), so there is no build output to
# keep in sync; the image holds production dependencies only, without the optional local ClickHouse
# engine (deployments use a real ClickHouse server).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY . .
RUN npm install --omit=dev --omit=optional --no-audit --no-fund \
 && rm -rf .kaudit bench test **/*.test.ts

FROM node:20-bookworm-slim
ENV NODE_ENV=production HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps --chown=node:node /app /app
USER node
# Override with: services/<ingest|enrich|sink|alert>/src/main.ts
# The flags of serviceNodeArgs (libs/stack/src/service-node-args.ts): a larger young generation for the
# buffer-heavy Kafka paths.
ENTRYPOINT ["node", "--max-semi-space-size=64", "--import", "tsx", "--enable-source-maps"]
CMD ["services/ingest/src/main.ts"]
