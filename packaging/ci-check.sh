#!/usr/bin/env bash
# CI's packaging checks, after `cargo build --release`: the systemd unit verifies and
# keeps its sandbox, and `cargo deb` builds a package holding the binary and the unit.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v systemd-analyze >/dev/null; then
    # verify insists that ExecStart exists: point a copy at the binary just built.
    unit_dir=$(mktemp -d)
    trap 'rm -rf "$unit_dir"' EXIT
    sed "s#/usr/bin/kanect#$PWD/target/release/kanect#" packaging/kanect.service \
        >"$unit_dir/kanect.service"
    systemd-analyze verify "$unit_dir/kanect.service"
    # Exposure 0-10 in tenths: fail if the sandbox is loosened past 2.0 ("OK").
    systemd-analyze security --offline=yes --threshold=20 "$unit_dir/kanect.service" |
        tail -n 1
    echo "systemd unit: verified"
else
    echo "systemd-analyze not available: unit not verified"
fi

if ! command -v cargo-deb >/dev/null; then
    echo "installing cargo-deb"
    cargo install --locked cargo-deb
fi
rm -f target/debian/kanect_*.deb
cargo deb --no-build
deb=$(ls target/debian/kanect_*.deb)
contents=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/kanect ./usr/lib/systemd/system/kanect.service ./etc/kanect/kanect.toml; do
    grep -q " $path\$" <<<"$contents" || { echo "$deb lacks $path"; exit 1; }
done
echo "deb: $deb ($(stat -c %s "$deb") bytes)"
