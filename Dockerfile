# Pantau engine image. TypeScript runs through tsx, so the image is the source plus production deps, and the
# dashboard built in a stage of its own (Vite and Leaflet are dev dependencies: only web/dist is kept).
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npm run build:web

FROM node:20-bookworm-slim
WORKDIR /app
# ffmpeg for the CCTV relay (cctv/), from Debian; FFMPEG_PATH defaults to /usr/bin/ffmpeg
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY broker ./broker
COPY ingest ./ingest
COPY store ./store
COPY geo ./geo
COPY api ./api
COPY engine ./engine
COPY warning ./warning
COPY cctv ./cctv
COPY simulators ./simulators
COPY domain ./domain
COPY web ./web
COPY --from=web /app/web/dist ./web/dist
ENV PANTAU_DATA_DIR=/data PANTAU_HOST=0.0.0.0
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 1883 8080 8081
USER node
ENTRYPOINT ["node", "bin/pantau.js"]
CMD ["serve"]
