# Builds the orderflow binaries for docker-compose.yml. Never built on the machines that develop
# orderflow (they have no Docker); kept correct by reading.
FROM rust:1-bookworm AS build
# librdkafka is compiled from source by rdkafka-sys with its configure script and make.
RUN apt-get update && apt-get install -y --no-install-recommends cmake && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin order-api --bin order-processor --bin notifier --bin orderctl

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/order-api /src/target/release/order-processor /src/target/release/notifier /src/target/release/orderctl /usr/local/bin/
USER nobody
CMD ["order-processor"]
