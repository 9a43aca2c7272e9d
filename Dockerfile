# Palisade as a container: a static (musl) binary on a distroless base, run as a non-root user.
#
#   docker build -t palisade .
#   docker run --rm -v "$PWD:/src:ro" palisade scan /src
#
# The image has no kubectl or helm: render Kustomize directories and Helm charts first and pipe
# the output in (`kubectl kustomize overlays/prod | docker run --rm -i palisade scan -`).
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev git
WORKDIR /build
COPY . .
# On Alpine the target is musl and the binary is linked statically.
RUN cargo build --release --locked -p palisade \
 && strip target/release/palisade \
 && ./target/release/palisade --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /build/target/release/palisade /usr/local/bin/palisade
USER nonroot:nonroot
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/palisade"]
CMD ["--help"]
