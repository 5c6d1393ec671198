#!/usr/bin/env bash
# docker save of hrt's images (base, runtime, builder) into one tar for actions/cache. Loaded on the next
# runner, they keep their ids, so `hrt setup` finds its hash-tagged images and builds nothing (a registry
# base image is pulled again by digest: a load does not keep repository digests).
set -euo pipefail
out=${1:?usage: save-images.sh OUT.tar}
mapfile -t refs < <(sudo docker image ls --filter reference='hrt/base' --filter reference='hrt/runtime' \
    --filter reference='hrt/builder' --format '{{.Repository}}:{{.Tag}}')
if [ ${#refs[@]} -eq 0 ]; then
    echo "no hrt images to save"; exit 0
fi
mkdir -p "$(dirname "$out")"
sudo docker save -o "$out" "${refs[@]}"
sudo chown "$(id -u):$(id -g)" "$out"
echo "saved ${refs[*]} ($(du -h "$out" | cut -f1))"
