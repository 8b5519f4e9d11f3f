#!/bin/sh
# check_install.sh BUILD_DIR SOURCE_DIR WORK_DIR — installs the build into a
# scratch prefix (cmake --install), then builds examples/ against the
# installed package twice, through pkg-config and through find_package,
# and runs the host each time. Exit 77 (skipped) for a sanitizer build,
# whose library a plain host cannot link.
set -eu
build=$1 src=$2 work=$3
if [ -n "${RTG_SANITIZED:-}" ]; then
    echo "check_install: skipped: this build uses sanitizers; the installed library needs them too"
    exit 77
fi
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in include/rtgraph.h include/rtg_error.h lib/librtgraph.a lib/pkgconfig/rtgraph.pc \
         lib/cmake/rtgraph/rtgraphConfig.cmake; do
    [ -e "$prefix/$f" ] || { echo "check_install: $f was not installed"; exit 1; }
done
ls "$prefix"/lib/librtgraph.so.* > /dev/null || { echo "check_install: no shared library"; exit 1; }
# Only the API is exported from the shared library.
internals=$(nm -D --defined-only "$prefix"/lib/librtgraph.so | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' \
    | grep -v '^rtg_engine_\|^rtg_version$' || true)
if [ -n "$internals" ]; then
    echo "check_install: the shared library exports internals:" $internals
    exit 1
fi
run_host() { # $1: how it was found
    LD_LIBRARY_PATH="$prefix/lib" "$work/$1/host" "$src/configs/amp.yaml" "$src/models/amp_lstm.json" 2 \
        || { echo "check_install: the host built through $1 failed"; exit 1; }
}
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cmake -S "$src/examples" -B "$work/pkg-config" \
    -DRTGRAPH_USE_PKG_CONFIG=ON > "$work/pkg-config.log"
cmake --build "$work/pkg-config" >> "$work/pkg-config.log"
run_host pkg-config
cmake -S "$src/examples" -B "$work/find_package" -DCMAKE_PREFIX_PATH="$prefix" > "$work/find_package.log"
cmake --build "$work/find_package" >> "$work/find_package.log"
run_host find_package
echo "check_install: the host builds and runs against the installed package (pkg-config and find_package)"
