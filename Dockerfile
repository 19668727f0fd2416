# The mir command (cmd/mir) in a minimal image: one static binary, nothing
# else. Its default use is one replica of a deployment:
#
#   docker build -t mir .
#   docker run mir replica --membership /config/membership.json --id 0 \
#       --listen :7000 --client-addr :7001 --metrics :9100 --data /data
#
# See docs/deploy.md. The builder stage needs the golang image; where it
# cannot be pulled, scripts/docker-cluster.sh builds the binary on the host
# and puts it into the same final image with deploy/Dockerfile.prebuilt.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary, which runs in an image without a libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/mir ./cmd/mir \
    && mkdir /out/data

FROM scratch
COPY --from=build /out/mir /mir
# The replica's data directory, owned by the user it runs as (scratch has
# no mkdir).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# Peers, clients, metrics: the ports of the example command above.
EXPOSE 7000 7001 9100
ENTRYPOINT ["/mir"]
CMD ["--help"]
