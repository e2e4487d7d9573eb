# Production image of the `smaajob` binary.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p smaajob-api --bin smaajob

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/smaajob --create-home smaajob
COPY --from=build /src/target/release/smaajob /usr/local/bin/smaajob
USER smaajob
WORKDIR /var/lib/smaajob
ENV SMAAJOB_BIND=0.0.0.0:8080 SMAAJOB_LOG_FORMAT=json
EXPOSE 8080
# `smaajob healthcheck` asks GET /healthz on SMAAJOB_BIND; the slim image has no curl or bash.
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["smaajob", "healthcheck"]
ENTRYPOINT ["smaajob"]
CMD ["serve"]
