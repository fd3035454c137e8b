# syntax=docker/dockerfile:1
# The ops-skill image, built by goreleaser (dockers_v2 in .goreleaser.yaml):
# the static binary it built (put in the build context as
# $TARGETPLATFORM/ops-skill), CA certificates for the webhooks and LLM
# endpoints, a non-root user, and nothing else. The user is the UID/GID that
# deploy/serve-deployment.yaml's securityContext runs as.

# Certificates and the user's files are the same on every architecture, so this
# stage runs on the builder's own platform (no emulation).
FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot /state \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /out/etc/passwd \
 && echo 'nonroot:x:65532:' > /out/etc/group \
 && chmod 1777 /out/tmp

FROM scratch
ARG TARGETPLATFORM
COPY --from=base /out/ /
COPY --from=base --chown=65532:65532 /out/home/nonroot /home/nonroot
COPY --from=base --chown=65532:65532 /state /var/lib/ops-skill
COPY $TARGETPLATFORM/ops-skill /usr/bin/ops-skill
ENV HOME=/home/nonroot \
    OPS_SKILL_STATE_DIR=/var/lib/ops-skill
USER 65532:65532
ENTRYPOINT ["/usr/bin/ops-skill"]
