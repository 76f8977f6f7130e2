# Build a static ipqsbot binary, then ship it alone on an empty base image
# with CA certificates, running as an unprivileged user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ipqsbot ./cmd/ipqsbot

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ipqsbot /ipqsbot
# 65532 is the conventional "nonroot" user ID of distroless images.
USER 65532:65532
ENTRYPOINT ["/ipqsbot"]
CMD ["run"]
