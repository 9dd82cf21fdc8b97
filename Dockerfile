# Image labsea/metricsender: a static binary on distroless, run as non-root.
#
#   docker build -t labsea/metricsender --build-arg VERSION=$(git describe --tags --always) .
#
# deployments/program_binary_test.go (once, from .ci/run) runs the `go build`
# line below verbatim (on a copy of the build context filtered by
# .dockerignore), so keep it on one RUN line and keep `-o /out/metricsender`.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/labsea/metricsender/app.Version=${VERSION}" -o /out/metricsender .

# The metrics API bridge (cmd/metrics-api, a Go module of its own: the
# Kubernetes API server library it is built on takes minutes to compile,
# so it stays out of the default image's build). Its own target:
#
#   docker build --target metrics-api -t labsea/metricsender-metrics-api .
#
# These stages come before the default image's, which stays the last one
# (what a plain `docker build` builds).
FROM golang:1.26-bookworm AS metrics-api-build
WORKDIR /src
COPY go.mod go.sum ./
COPY cmd/metrics-api/go.mod cmd/metrics-api/go.sum ./cmd/metrics-api/
RUN cd cmd/metrics-api && go mod download
COPY . .
RUN CGO_ENABLED=0 go build -C cmd/metrics-api -trimpath -ldflags "-s -w" -o /out/metricsender-metrics-api .

FROM gcr.io/distroless/static-debian12:nonroot AS metrics-api
COPY --from=metrics-api-build /out/metricsender-metrics-api /usr/local/bin/metricsender-metrics-api
USER 65532:65532
EXPOSE 6443
ENTRYPOINT ["metricsender-metrics-api"]

# static-debian12 has CA certificates (amqps) and tzdata, no shell; the
# nonroot tag runs as 65532, which the Kubernetes manifests pin with runAsUser.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/metricsender /usr/local/bin/metricsender
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["metricsender"]
CMD ["send"]
