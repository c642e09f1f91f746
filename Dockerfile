# syntax=docker/dockerfile:1
# The pacesetter server as a container image. Two stages: the binary is built with cgo (DuckDB's prebuilt
# static library is linked in) on Debian bookworm, and run on Debian bookworm slim, whose glibc and libstdc++
# are the ones it was linked against (so not alpine's musl, nor a distroless static image). It runs as a user
# without privileges and serves the embedded NBS dataset by default.
#
#   docker build -t pacesetter .
#   docker run --rm -p 8080:8080 pacesetter                                     # the embedded dataset
#   docker run --rm -v "$PWD/stats:/data" pacesetter import --db /data/stats.db /data/new   # a dataset file
#   docker run --rm -p 8080:8080 -v "$PWD/stats:/data" pacesetter serve --db /data/stats.db --addr 0.0.0.0:8080
#
# The folder mounted at /data must be writable by uid 10001 (a reload links the new snapshot beside it).

# The Go of go.mod's go line (a test, TestDockerfile, keeps the two the same).
FROM golang:1.26-bookworm AS build
WORKDIR /src
# The modules first, so a change of the sources alone reuses the layer of downloaded modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# README's install command, into a folder of its own (cgo is on by default with gcc in the image; said here
# since DuckDB cannot build without it).
RUN CGO_ENABLED=1 GOBIN=/out go install -trimpath ./cmd/pacesetter

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pacesetter \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin pacesetter \
 && mkdir /data && chown pacesetter:pacesetter /data
COPY --from=build /out/pacesetter /usr/local/bin/pacesetter
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8080
# Ready once the dataset is loaded and answers (slim has no curl: the binary asks its own /readyz).
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 CMD ["pacesetter", "health", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["pacesetter"]
# All interfaces, so the published port reaches it (serve listens on 127.0.0.1 by default).
CMD ["serve", "--addr", "0.0.0.0:8080"]
