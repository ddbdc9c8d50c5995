# Multi-stage build of every binary of the fleet; the runtime image runs as a non-root user.
# Build: docker build -t stripe-sf-fleet .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins \
 && mkdir /out \
 && cp target/release/ingress target/release/workers target/release/sfsim target/release/loadgen /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home fleet
COPY --from=build /out/ /usr/local/bin/
USER fleet
EXPOSE 8000 9100
CMD ["ingress"]
